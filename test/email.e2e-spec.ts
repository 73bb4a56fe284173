import { DataSource } from 'typeorm';
import { newTenant, startTestApp, waitUntil, type TestApp } from './harness.js';
import { userToken } from './user-token-support.js';
import { LoginCodeService } from '../src/email-flows/login-code.service.js';
import { UsersService } from '../src/users/users.service.js';
import { codeIn, MailCatcher, markerMail, type Mail } from './mail-support.js';
import * as fixtures from './fixtures.js';
import { toProblemException } from '../src/common/problem.filter.js';

type Marker = Awaited<ReturnType<typeof markerMail>>;

describe('email flows', () => {
  let t: TestApp;
  // The mail server refuses `refused…` recipients (a failed send).
  const smtp = new MailCatcher((address) => address.startsWith('refused'));
  const mails = smtp.mails;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  /** Takes the first mail to `address` off the list, waiting for it to arrive. */
  async function mailTo(address: string, timeoutMs = 5000): Promise<Mail> {
    const i = await waitUntil(
      `a mail to ${address}`,
      () => mails.findIndex((m) => m.to.includes(address)) + 1,
      { timeoutMs },
    );
    return mails.splice(i - 1, 1)[0];
  }

  /** Nothing was mailed to `address`, checked once the marker asked for afterwards arrived. */
  async function noMailTo(marker: Marker, address: string) {
    await smtp.after(marker.address, marker.send);
    expect(mails.filter((m) => m.to.includes(address))).toEqual([]);
  }

  function tokenFrom(mail: Mail, path: string): string {
    const re = new RegExp(
      `${t.baseUrl.replace(/[.]/g, '\\.')}/[a-z0-9-]+/${path}\\?token=([A-Za-z0-9_-]+)`,
    );
    const inText = re.exec(mail.text)?.[1];
    expect(inText).toBeDefined();
    expect(mail.html).toContain(`?token=${inText}`);
    return inText!;
  }

  let n = 0;
  async function setup() {
    n += 1;
    const tenant = await fixtures.tenant(t, {
      scopes: ['api-keys:write', 'users:write', 'me:read'],
      settings: { display_name: 'Acme <Mail>' },
    });
    const email = fixtures.uniqueEmail(tenant.tenantId, `alice${n}`);
    const user = await fixtures.user(t, tenant.tenantId, { email, password: 'old password 123' });
    const key = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/api-keys`, {
      key: tenant.key,
      body: { name: 'alice', scopes: ['me:read'], user_id: user.user_id },
    });
    return {
      ...tenant,
      email,
      userId: user.user_id,
      /** An admin-minted user key: it reads the account, changes no address. */
      userKey: key.body.api_key as string,
      /** Alice's own token from a fresh sign-in, which an address change asks for. */
      token: await userToken(t, tenant.tenantId, 'alice', 'old password 123'),
      api: `/api/v1/tenants/${tenant.tenantId}`,
    };
  }

  async function expire(tenantId: string) {
    await t.app
      .get(DataSource)
      .query(
        `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
        [tenantId],
      );
  }

  describe('verification', () => {
    it('mails a single-use link that verifies the address', async () => {
      const u = await setup();
      const sent = await t.http('POST', `${u.api}/users/${u.userId}/send-verification`, {
        key: u.key,
      });
      expect(sent.status).toBe(202);
      const mail = await mailTo(u.email);
      expect(mail.subject).toBe('Acme <Mail>: confirm your email address');
      expect(mail.html).toContain('Acme &lt;Mail&gt;');
      expect(mail.html).not.toContain('<Mail>');
      const token = tokenFrom(mail, 'account/verify-email');
      expect(mail.text).toContain(`${t.baseUrl}/${u.tenantId}/account/verify-email?token=${token}`);

      // Stored hashed only.
      const rows = await t.app
        .get(DataSource)
        .query('SELECT token_hash FROM email_tokens WHERE tenant_id = $1', [u.tenantId]);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).not.toContain(token);

      const before = await t.http('GET', `${u.api}/users/${u.userId}`, { key: u.key });
      expect(before.body.is_verified).toBe(false);
      const ok = await t.http('POST', `${u.api}/email/verify`, { key: null, body: { token } });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ verified: true });
      const after = await t.http('GET', `${u.api}/users/${u.userId}`, { key: u.key });
      expect(after.body.is_verified).toBe(true);

      const again = await t.http('POST', `${u.api}/email/verify`, { key: null, body: { token } });
      expect(again.status).toBe(400);
      expect(again.body.type).toBe('urn:idp:problem:invalid-token');
    });

    it('refuses expired links, links for an old address, other tenants and bad input', async () => {
      const u = await setup();
      await t.http('POST', `${u.api}/users/${u.userId}/send-verification`, { key: u.key });
      const token = tokenFrom(await mailTo(u.email), 'account/verify-email');

      // Another tenant does not know the token.
      const other = await setup();
      expect(
        (await t.http('POST', `${other.api}/email/verify`, { key: null, body: { token } })).status,
      ).toBe(400);
      expect(
        (
          await t.http('POST', `/api/v1/tenants/no-such-tenant/email/verify`, {
            key: null,
            body: { token },
          })
        ).status,
      ).toBe(404);

      await expire(u.tenantId);
      const expired = await t.http('POST', `${u.api}/email/verify`, { key: null, body: { token } });
      expect(expired.status).toBe(400);
      expect(expired.body.type).toBe('urn:idp:problem:token-expired');

      // A link for an address the user no longer has.
      await t.http('POST', `${u.api}/users/${u.userId}/send-verification`, { key: u.key });
      const token2 = tokenFrom(await mailTo(u.email), 'account/verify-email');
      await t.http('PATCH', `${u.api}/users/${u.userId}`, {
        key: u.key,
        body: { email: `changed-${u.email}` },
      });
      expect(
        (await t.http('POST', `${u.api}/email/verify`, { key: null, body: { token: token2 } }))
          .status,
      ).toBe(400);
      expect(
        (await t.http('GET', `${u.api}/users/${u.userId}`, { key: u.key })).body.is_verified,
      ).toBe(false);

      for (const body of [
        undefined,
        {},
        { token: 5 },
        { token: '' },
        { token: 'x'.repeat(300) },
        { token: 'short' },
        { token: token2, x: 1 },
      ])
        expect((await t.http('POST', `${u.api}/email/verify`, { key: null, body })).status).toBe(
          400,
        );

      // A user without an address, an unknown user, a key of another tenant, a key without users:write.
      const bare = await t.http('POST', `${u.api}/users`, {
        key: u.key,
        body: { username: 'bare' },
      });
      expect(
        (
          await t.http('POST', `${u.api}/users/${bare.body.user_id}/send-verification`, {
            key: u.key,
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await t.http(
            'POST',
            `${u.api}/users/6b0c3a56-6f4b-4f0e-9d0b-0d6c2f1e7a11/send-verification`,
            { key: u.key },
          )
        ).status,
      ).toBe(404);
      expect(
        (await t.http('POST', `${u.api}/users/${u.userId}/send-verification`, { key: other.key }))
          .status,
      ).toBe(404);
      expect(
        (await t.http('POST', `${u.api}/users/${u.userId}/send-verification`, { key: u.userKey }))
          .status,
      ).toBe(403);
    });

    it('answers 503 when the mail server refuses the message', async () => {
      const u = await setup();
      const bad = await t.http('POST', `${u.api}/users`, {
        key: u.key,
        body: { username: 'refused', email: `refused-${u.tenantId}@example.test` },
      });
      const r = await t.http('POST', `${u.api}/users/${bad.body.user_id}/send-verification`, {
        key: u.key,
      });
      expect(r.status).toBe(503);
      expect(r.body.type).toBe('urn:idp:problem:mail-failed');
    });
  });

  describe('password reset', () => {
    it('answers the same whether or not the address exists, and mails only real accounts', async () => {
      const u = await setup();
      const known = await t.http('POST', `${u.api}/password-reset`, {
        key: null,
        body: { email: u.email.toUpperCase() },
      });
      const unknown = await t.http('POST', `${u.api}/password-reset`, {
        key: null,
        body: { email: `nobody-${u.tenantId}@example.test` },
      });
      expect(known.status).toBe(202);
      expect(unknown.status).toBe(202);
      expect(unknown.text).toBe(known.text);
      const mail = await mailTo(u.email);
      expect(mail.subject).toBe('Acme <Mail>: reset your password');
      const marker = await markerMail(t, u.tenantId);
      await noMailTo(marker, `nobody-${u.tenantId}@example.test`);
      // A username is not an address.
      await t.http('POST', `${u.api}/password-reset`, { key: null, body: { email: 'alice@x.y' } });
      await noMailTo(marker, 'alice@x.y');
      expect(
        (
          await t.http('POST', `/api/v1/tenants/no-such-tenant/password-reset`, {
            key: null,
            body: { email: u.email },
          })
        ).status,
      ).toBe(404);
    });

    it('sets a new password through the mailed link, once, with the policy applied', async () => {
      const u = await setup();
      await t.http('POST', `${u.api}/password-reset`, { key: null, body: { email: u.email } });
      const first = tokenFrom(await mailTo(u.email), 'login/reset');
      await t.http('POST', `${u.api}/password-reset`, { key: null, body: { email: u.email } });
      const token = tokenFrom(await mailTo(u.email), 'login/reset');
      expect(token).not.toBe(first);

      const weak = await t.http('POST', `${u.api}/password-reset/confirm`, {
        key: null,
        body: { token, password: 'short' },
      });
      expect(weak.status).toBe(400);
      expect(weak.body.errors?.[0]?.field).toBe('password');

      const ok = await t.http('POST', `${u.api}/password-reset/confirm`, {
        key: null,
        body: { token, password: 'a brand new password' },
      });
      expect(ok.status).toBe(204);
      const users = t.app.get(UsersService);
      const user = await users.findForLogin(u.tenantId, 'alice');
      expect(await users.verifyPassword(u.tenantId, user, 'a brand new password')).toBe(true);
      expect(await users.verifyPassword(u.tenantId, user, 'old password 123')).toBe(false);

      const reused = await t.http('POST', `${u.api}/password-reset/confirm`, {
        key: null,
        body: { token, password: 'another new password' },
      });
      expect(reused.status).toBe(400);
      expect(reused.body.type).toBe('urn:idp:problem:invalid-token');
      // The other outstanding link died with the reset.
      expect(
        (
          await t.http('POST', `${u.api}/password-reset/confirm`, {
            key: null,
            body: { token: first, password: 'another new password' },
          })
        ).status,
      ).toBe(400);
    });

    it('refuses an expired link with a clear problem, and malformed bodies with 400', async () => {
      const u = await setup();
      await t.http('POST', `${u.api}/password-reset`, { key: null, body: { email: u.email } });
      const token = tokenFrom(await mailTo(u.email), 'login/reset');
      await expire(u.tenantId);
      const r = await t.http('POST', `${u.api}/password-reset/confirm`, {
        key: null,
        body: { token, password: 'a brand new password' },
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({
        type: 'urn:idp:problem:token-expired',
        title: 'Link expired',
      });

      for (const body of [
        undefined,
        {},
        { email: 'not-an-email' },
        { email: 5 },
        { email: u.email, x: 1 },
        'nope',
      ])
        expect(
          (
            await t.http('POST', `${u.api}/password-reset`, {
              key: null,
              body,
              headers: { 'content-type': 'application/json' },
            })
          ).status,
        ).toBe(400);
      for (const body of [
        {},
        { token },
        { password: 'a brand new password' },
        { token: 1, password: 'a brand new password' },
        { token, password: 5 },
      ])
        expect(
          (await t.http('POST', `${u.api}/password-reset/confirm`, { key: null, body })).status,
        ).toBe(400);
    });
  });

  describe('email change', () => {
    it('confirms the new address from a link mailed to it, and tells the old one', async () => {
      const u = await setup();
      const next = `new-${u.email}`;
      const r = await t.http('POST', `${u.api}/me/email`, {
        key: u.token,
        body: { new_email: next },
      });
      expect(r.status).toBe(202);
      const mail = await mailTo(next);
      expect(mail.subject).toBe('Acme <Mail>: confirm your new email address');
      const token = tokenFrom(mail, 'account/confirm-email');
      // Nothing changes until the link is followed.
      expect((await t.http('GET', `${u.api}/me`, { key: u.userKey })).body.email).toBe(u.email);

      const ok = await t.http('POST', `${u.api}/email/confirm-change`, {
        key: null,
        body: { token },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ email: next });
      const me = await t.http('GET', `${u.api}/me`, { key: u.userKey });
      expect(me.body).toMatchObject({ email: next, is_verified: true });
      const notice = await mailTo(u.email);
      expect(notice.text).toContain(next);
      expect(
        (await t.http('POST', `${u.api}/email/confirm-change`, { key: null, body: { token } }))
          .status,
      ).toBe(400);
    });

    it('does not reveal a taken address, and answers 409 when it was taken meanwhile', async () => {
      const u = await setup();
      const taken = `taken-${u.tenantId}@example.test`;
      const owner = await t.http('POST', `${u.api}/users`, {
        key: u.key,
        body: { username: 'owner', email: taken },
      });
      const r = await t.http('POST', `${u.api}/me/email`, {
        key: u.token,
        body: { new_email: taken },
      });
      expect(r.status).toBe(202);
      const notice = await mailTo(taken);
      expect(notice.subject).toBe('Acme <Mail>: this address already has an account');
      expect(notice.text).not.toMatch(/token=/);

      const later = `later-${u.tenantId}@example.test`;
      await t.http('POST', `${u.api}/me/email`, { key: u.token, body: { new_email: later } });
      const token = tokenFrom(await mailTo(later), 'account/confirm-email');
      await t.http('PATCH', `${u.api}/users/${owner.body.user_id}`, {
        key: u.key,
        body: { email: later },
      });
      const conflict = await t.http('POST', `${u.api}/email/confirm-change`, {
        key: null,
        body: { token },
      });
      expect(conflict.status).toBe(409);
      // Freed again: the same link still works.
      await t.http('DELETE', `${u.api}/users/${owner.body.user_id}`, { key: u.key });
      const ok = await t.http('POST', `${u.api}/email/confirm-change`, {
        key: null,
        body: { token },
      });
      expect(ok.status).toBe(200);
    });

    it('refuses bad input, other holders and expired links', async () => {
      const u = await setup();
      for (const body of [
        {},
        { new_email: 'nope' },
        { new_email: 5 },
        { new_email: u.email, x: 1 },
      ])
        expect((await t.http('POST', `${u.api}/me/email`, { key: u.token, body })).status).toBe(
          400,
        );
      expect(
        (
          await t.http('POST', `${u.api}/me/email`, {
            key: u.token,
            body: { new_email: u.email.toUpperCase() },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await t.http('POST', `${u.api}/me/email`, {
            key: u.key,
            body: { new_email: 'x@example.test' },
          })
        ).status,
      ).toBe(403);
      const other = await setup();
      expect(
        (
          await t.http('POST', `${other.api}/me/email`, {
            key: u.userKey,
            body: { new_email: 'x@example.test' },
          })
        ).status,
      ).toBe(404);

      const next = `exp-${u.email}`;
      await t.http('POST', `${u.api}/me/email`, { key: u.token, body: { new_email: next } });
      const token = tokenFrom(await mailTo(next), 'account/confirm-email');
      expect(
        (await t.http('POST', `${other.api}/email/confirm-change`, { key: null, body: { token } }))
          .status,
      ).toBe(400);
      await expire(u.tenantId);
      const r = await t.http('POST', `${u.api}/email/confirm-change`, {
        key: null,
        body: { token },
      });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('urn:idp:problem:token-expired');
    });
  });

  describe('one-time sign-in code', () => {
    it('mails a 6-digit code that signs in once', async () => {
      const u = await setup();
      const codes = t.app.get(LoginCodeService);
      await codes.issue(u.tenantId, u.email.toUpperCase());
      const mail = await mailTo(u.email);
      expect(mail.subject).toBe('Acme <Mail>: your sign-in code');
      const code = codeIn(mail);
      expect(code).toMatch(/^\d{6}$/);
      const wrong = code === '000000' ? '000001' : '000000';
      expect(await codes.consume(u.tenantId, u.email, wrong)).toBeNull();
      expect(await codes.consume(u.tenantId, u.email, 'abc')).toBeNull();
      expect(await codes.consume(u.tenantId, `x${u.email}`, code)).toBeNull();
      expect(await codes.consume(u.tenantId, u.email, code)).toBe(u.userId);
      expect(await codes.consume(u.tenantId, u.email, code)).toBeNull();

      await codes.issue(u.tenantId, `nobody-${u.tenantId}@example.test`);
      await noMailTo(await markerMail(t, u.tenantId), `nobody-${u.tenantId}@example.test`);
    });

    it('allows five guesses; an exhausted code is replaced, a live one resent', async () => {
      const u = await setup();
      const codes = t.app.get(LoginCodeService);
      await codes.issue(u.tenantId, u.email);
      const code = codeIn(await mailTo(u.email));
      const wrong = code === '999999' ? '999998' : '999999';
      for (let i = 0; i < 5; i += 1)
        expect(await codes.consume(u.tenantId, u.email, wrong)).toBeNull();
      expect(await codes.consume(u.tenantId, u.email, code)).toBeNull();

      await codes.issue(u.tenantId, u.email);
      const old = codeIn(await mailTo(u.email));
      await codes.issue(u.tenantId, u.email);
      const fresh = codeIn(await mailTo(u.email));
      expect(fresh).toBe(old);
      expect(await codes.consume(u.tenantId, u.email, fresh)).toBe(u.userId);

      await codes.issue(u.tenantId, u.email);
      const late = codeIn(await mailTo(u.email));
      await expire(u.tenantId);
      expect(await codes.consume(u.tenantId, u.email, late)).toBeNull();
    });
  });
});

describe('email flows without SMTP_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 503 with a clear problem', async () => {
    const tenant = await newTenant(t, ['api-keys:write', 'users:write']);
    const api = `/api/v1/tenants/${tenant.tenantId}`;
    const user = await t.http('POST', `${api}/users`, {
      key: tenant.key,
      body: { username: 'alice', email: 'alice@example.test', password: 'old password 123' },
    });
    const token = await userToken(t, tenant.tenantId, 'alice', 'old password 123');
    const reset = await t.http('POST', `${api}/password-reset`, {
      key: null,
      body: { email: 'alice@example.test' },
    });
    expect(reset.status).toBe(503);
    expect(reset.body).toMatchObject({
      type: 'urn:idp:problem:mail-disabled',
      title: 'Mail is not configured',
    });
    expect(
      (
        await t.http('POST', `${api}/users/${user.body.user_id}/send-verification`, {
          key: tenant.key,
        })
      ).status,
    ).toBe(503);
    expect(
      (
        await t.http('POST', `${api}/me/email`, {
          key: token,
          body: { new_email: 'b@example.test' },
        })
      ).status,
    ).toBe(503);
    await expect(
      t.app
        .get(LoginCodeService)
        .issue(tenant.tenantId, 'alice@example.test')
        .catch((e: unknown) => Promise.reject(toProblemException(e))),
    ).rejects.toMatchObject({
      status: 503,
    });
  });
});
