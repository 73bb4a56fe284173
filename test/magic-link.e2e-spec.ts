import { DataSource } from 'typeorm';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { AuditService } from '../src/audit/audit.service.js';
import { enrolTotp, selfToken, startLogin, submit, tokensOf } from './account-support.js';
import { Browser, findForm, type BrowserResponse } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { MailCatcher, markerMail } from './mail-support.js';

const SENT = 'If an account exists for';
const WRONG = 'The link or code is wrong, has expired or was already used.';
const INVALID = 'This sign-in link is invalid, has expired or was already used.';

/** From the login page to the "check your email" page, asking a link for `email`. */
async function askLink(b: Browser, login: BrowserResponse, email: string) {
  expect(login.html).toContain('Email me a sign-in link');
  const link = findForm(login.html, '/login/magic-link');
  const ask = await b.get(new URL(link.action, login.url));
  expect(ask.status).toBe(200);
  const page = await submit(b, ask, '/login/magic-link', { email });
  return { ask, page };
}

/** A page with its per-request values and the address blanked out. */
const strip = (html: string, email: string) =>
  html
    .replaceAll(email, 'EMAIL')
    .replace(/name="(csrf|pending)" value="[^"]*"/g, 'name="$1" value=""')
    .replace(/\/interaction\/[^/"]+/g, '/interaction/UID');

const codeOnPage = (html: string) =>
  /class="bigcode"[^>]*>(\d{3}) (\d{3})</.exec(html)?.slice(1, 3).join('') ?? '';

async function issue(t: TestApp, tenantId: string, userId: string, key: string, body = {}) {
  return t.http('POST', `/api/v1/tenants/${tenantId}/users/${userId}/sign-in-tokens`, {
    key,
    body,
  });
}

/** Opens the token URL and presses its button; answers the redirect. */
async function useToken(b: Browser, url: string) {
  const shown = await b.get(url);
  expect(shown.status).toBe(200);
  expect(shown.html).toContain('signs you in as <strong>alice</strong>');
  return submit(b, shown, '/login/sign-in-token');
}

describe('hosted login: one-time sign-in links by email', () => {
  let t: TestApp;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  /** The link of the `n`th sign-in link mail to `address` (1-based), waiting for it. */
  function linkFor(address: string, n = 1): Promise<string> {
    return waitUntil(`sign-in link ${n} mailed to ${address}`, () => {
      const mails = smtp.to(address).filter((m) => /your sign-in link/.test(m.subject));
      const m = mails[n - 1];
      return (
        m && /(https?:\/\/\S+\/login\/magic-link\/open\?token=[A-Za-z0-9_-]+)/.exec(m.text)?.[1]
      );
    });
  }

  async function setup(settings: Record<string, unknown> = {}) {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:write', 'audit:read', 'blocker:read'],
      settings: { magic_link_enabled: true, ...settings },
    });
    const email = fixtures.uniqueEmail(tenant.tenantId);
    const x = await fixtures.app(t, {
      within: tenant,
      user: { email },
      client: fixtures.firstPartyApp(),
    });
    return { ...x, alice: x.user, email };
  }

  async function auditOf(tenantId: string, key: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?type=${type}&limit=50`,
      {
        key,
      },
    );
    expect(r.status).toBe(200);
    return r.body.data as Array<{ method: string; subject_id?: string | null; details?: any }>;
  }

  it('signs in with the link in the browser that asked, once; openid-client redeems the code', async () => {
    const x = await setup();
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const { page } = await askLink(b, s.page, x.email);
    expect(page.status).toBe(200);
    expect(page.html).toContain(SENT);
    // The browser got its nonce, scoped to this interaction.
    expect(b.cookieNames().some((c) => c.startsWith('idp_magic_nonce@/'))).toBe(true);
    const url = await linkFor(x.email);

    // Opening the link only shows a button (a mail scanner's GET spends nothing).
    const opened = await b.get(url);
    expect(opened.status).toBe(200);
    expect(opened.html).toContain('Continue');
    const opened2 = await b.get(url);
    expect(opened2.status).toBe(200);
    // Without the nonce cookie (same interaction, same CSRF token), the link does not sign in.
    const at = b.cookies.findIndex((c) => c.name === 'idp_magic_nonce');
    const [nonce] = b.cookies.splice(at, 1);
    expect((await b.get(url)).html).toContain('class="bigcode"');
    const noNonce = await submit(b, opened, '/magic-link/open');
    expect(noNonce.status).toBe(401);
    expect(noNonce.html).toContain(INVALID);
    b.cookies.push(nonce);
    const ok = await submit(b, opened, '/magic-link/open');
    expect(ok.status).toBe(303);
    const tokens = await tokensOf(b, x.config, s, ok);
    expect(tokens.claims()!.sub).toBe(x.alice.user_id);
    expect(tokens.claims()!.amr).toEqual(['otp']);

    // Spent: the link and its confirm form are refused alike.
    const again = await b.get(url);
    expect(again.status).toBe(400);
    expect(again.html).toContain(INVALID);
    const b2 = new Browser();
    const s2 = await startLogin(b2, x.config);
    const reused = await b2.post(url.replace(/\?.*$/, ''), {
      token: new URL(url).searchParams.get('token')!,
      csrf: findForm(s2.page.html, '/login').fields.csrf,
    });
    expect(reused.status).toBeGreaterThanOrEqual(400);
    expect(reused.status).toBeLessThan(500);

    const successes = await auditOf(x.tenantId, x.key, 'login.success');
    expect(successes.filter((e) => e.method === 'magic_link')).toHaveLength(1);
    expect(successes.find((e) => e.method === 'magic_link')!.details.amr).toEqual(['otp']);
  });

  it('in another browser shows a code, which signs in only in the browser that asked', async () => {
    const x = await setup();
    const b1 = new Browser();
    const s = await startLogin(b1, x.config);
    const { page } = await askLink(b1, s.page, x.email);
    const url = await linkFor(x.email);

    const other = new Browser();
    const shown = await other.get(url);
    expect(shown.status).toBe(200);
    expect(shown.html).not.toContain('/magic-link/open');
    const code = codeOnPage(shown.html);
    expect(code).toMatch(/^\d{6}$/);
    // The other browser cannot spend the link itself: it has neither the nonce nor the interaction.
    const forced = await other.post(url.replace(/\?.*$/, ''), {
      token: new URL(url).searchParams.get('token')!,
      csrf: 'x',
    });
    expect(forced.status).toBe(400);

    const wrongCode = code === '000000' ? '111111' : '000000';
    const wrong = await submit(b1, page, '/magic-link/code', { code: wrongCode });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain(WRONG);
    const ok = await submit(b1, wrong, '/magic-link/code', {
      code: `${code.slice(0, 3)} ${code.slice(3)}`,
    });
    expect(ok.status).toBe(303);
    expect((await tokensOf(b1, x.config, s, ok)).claims()!.sub).toBe(x.alice.user_id);
    // Spent by the code: the link is dead too.
    expect((await other.get(url)).status).toBe(400);
    // The code again: the authorisation it belonged to is over, so the step itself is gone.
    expect((await submit(b1, page, '/magic-link/code', { code })).status).toBe(400);
  });

  it('refuses an expired link and its code', async () => {
    const x = await setup();
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const { page } = await askLink(b, s.page, x.email);
    const url = await linkFor(x.email);
    const code = codeOnPage((await new Browser().get(url)).html);
    await t.app
      .get(DataSource)
      .query(
        `UPDATE sign_in_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
        [x.tenantId],
      );
    const opened = await b.get(url);
    expect(opened.status).toBe(400);
    expect(opened.html).toContain(INVALID);
    const tried = await submit(b, page, '/magic-link/code', { code });
    expect(tried.status).toBe(401);
  });

  it('refuses the link under another tenant', async () => {
    const x = await setup();
    const y = await setup();
    const b = new Browser();
    const s = await startLogin(b, x.config);
    await askLink(b, s.page, x.email);
    const url = await linkFor(x.email);
    const moved = url.replace(`/${x.tenantId}/`, `/${y.tenantId}/`);
    expect(moved).not.toBe(url);
    const r = await b.get(moved);
    expect(r.status).toBe(400);
    expect(r.html).toContain(INVALID);
    // And the link still works where it belongs.
    expect((await b.get(url)).status).toBe(200);
  });

  it('answers an unknown address exactly like a known one and mails nothing', async () => {
    const x = await setup();
    const unknown = `nobody-${x.tenantId}@example.test`;
    const b1 = new Browser();
    const known = await askLink(b1, (await startLogin(b1, x.config)).page, x.email);
    const b2 = new Browser();
    const other = await askLink(b2, (await startLogin(b2, x.config)).page, unknown);
    expect(other.page.status).toBe(known.page.status);
    expect(strip(other.page.html, unknown)).toBe(strip(known.page.html, x.email));
    expect(other.page.html).toContain(SENT);
    // Both browsers got a nonce cookie alike.
    expect(b2.cookieNames().some((c) => c.startsWith('idp_magic_nonce@'))).toBe(true);

    await linkFor(x.email);
    const marker = await markerMail(t, x.tenantId);
    expect(await smtp.after(marker.address, marker.send, unknown)).toHaveLength(0);
    const tried = await submit(b2, other.page, '/magic-link/code', { code: '123456' });
    expect(tried.status).toBe(401);
    expect(tried.html).toContain(WRONG);
    expect((await submit(b2, other.ask, '/login/magic-link', { email: '' })).status).toBe(400);
    expect(
      (await submit(b2, other.ask, '/login/magic-link', { email: unknown, csrf: 'bad' })).status,
    ).toBe(403);
  });

  it('counts wrong codes in the blocker per address; once blocked even the right link fails', async () => {
    const x = await setup({
      block_config: {
        ip: { max_attempts: 50, window_seconds: 300, block_seconds: 900 },
        user: { max_attempts: 3, window_seconds: 300, block_seconds: 900 },
      },
    });
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const { page } = await askLink(b, s.page, x.email);
    const url = await linkFor(x.email);
    const code = codeOnPage((await new Browser().get(url)).html);
    const wrongCode = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) {
      const r = await submit(b, page, '/magic-link/code', { code: wrongCode });
      expect(r.status).toBe(401);
    }
    const blocked = await t.http('GET', `/api/v1/tenants/${x.tenantId}/blocked-users`, {
      key: x.key,
    });
    expect(blocked.status).toBe(200);
    expect(JSON.stringify(blocked.body.data)).toContain(x.email);
    // The right code and the link itself: refused like a wrong one while blocked.
    const right = await submit(b, page, '/magic-link/code', { code });
    expect(right.status).toBe(401);
    expect(right.html).toContain(WRONG);
    const opened = await b.get(url);
    expect(opened.status).toBe(200);
    const confirm = await submit(b, opened, '/magic-link/open');
    expect(confirm.status).toBe(401);
    const failures = await auditOf(x.tenantId, x.key, 'login.failure');
    expect(
      failures.filter((e) => e.method === 'magic_link' && e.details?.reason === 'blocked').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('counts unknown link tokens per IP; a blocked IP gets the invalid page even for a good link', async () => {
    const x = await setup({
      block_config: {
        ip: { max_attempts: 3, window_seconds: 300, block_seconds: 900 },
        user: { max_attempts: 5, window_seconds: 300, block_seconds: 900 },
      },
    });
    const b = new Browser();
    const s = await startLogin(b, x.config);
    await askLink(b, s.page, x.email);
    const url = await linkFor(x.email);
    const bogus = url.replace(/token=[^&]+/, `token=${'A'.repeat(43)}`);
    for (let i = 0; i < 3; i++) expect((await new Browser().get(bogus)).status).toBe(400);
    const blocked = await t.http('GET', `/api/v1/tenants/${x.tenantId}/blocked-ips`, {
      key: x.key,
    });
    expect(blocked.status).toBe(200);
    expect(blocked.body.data.length).toBeGreaterThan(0);
    const r = await b.get(url);
    expect(r.status).toBe(400);
    expect(r.html).toContain(INVALID);
  });

  it('asks a TOTP user for the second factor after the link', async () => {
    const x = await setup();
    const key = await selfToken(t, x.tenantId);
    await enrolTotp(t, x.tenantId, key);
    const b = new Browser();
    const s = await startLogin(b, x.config);
    await askLink(b, s.page, x.email);
    const opened = await b.get(await linkFor(x.email));
    const step = await submit(b, opened, '/magic-link/open');
    expect(step.status).toBe(200);
    expect(step.html).toContain('Two-step verification');
  });

  it('is absent and refused while the tenant setting is off (the default)', async () => {
    const tenant = await fixtures.tenant(t, { scopes: ['users:write'] });
    const got = await t.http('GET', `/api/v1/tenants/${tenant.tenantId}`, { key: t.operatorKey });
    expect(got.body.magic_link_enabled).toBe(false);
    const email = fixtures.uniqueEmail(tenant.tenantId);
    const x = await fixtures.app(t, {
      within: tenant,
      user: { email },
      client: fixtures.firstPartyApp(),
    });
    const b = new Browser();
    const s = await startLogin(b, x.config);
    expect(s.page.html).not.toContain('Email me a sign-in link');
    const base = new URL(findForm(s.page.html, '/login').action, s.page.url).href;
    expect((await b.get(`${base}/magic-link`)).status).toBe(403);
    const csrf = findForm(s.page.html, '/login').fields.csrf;
    expect((await b.post(`${base}/magic-link`, { csrf, email })).status).toBe(403);

    // A link issued while on dies when the setting goes off.
    const y = await setup();
    const b2 = new Browser();
    const s2 = await startLogin(b2, y.config);
    await askLink(b2, s2.page, y.email);
    const url = await linkFor(y.email);
    const off = await t.http('PATCH', `/api/v1/tenants/${y.tenantId}`, {
      key: t.operatorKey,
      body: { magic_link_enabled: false },
    });
    expect(off.status).toBe(200);
    expect((await b2.get(url)).status).toBe(400);
    expect((await new Browser().get(url)).status).toBe(400);
  });

  describe('admin-issued sign-in tokens', () => {
    it('signs the user in once, onto the account page; audited with the acting key', async () => {
      const x = await setup();
      const r = await issue(t, x.tenantId, x.alice.user_id, x.key, { expires_in: 300 });
      expect(r.status).toBe(201);
      expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(r.body.url).toContain(`/${x.tenantId}/login/sign-in-token?token=${r.body.token}`);
      const left = Date.parse(r.body.expires_at) - Date.now();
      expect(left).toBeGreaterThan(200_000);
      expect(left).toBeLessThanOrEqual(300_000);

      const b = new Browser();
      const posted = await useToken(b, r.body.url);
      expect(posted.status).toBe(303);
      expect(posted.location).toContain('/account/signin');
      let res = posted;
      for (let i = 0; i < 12 && (res.status === 302 || res.status === 303); i++)
        res = await b.get(new URL(res.location!, res.url).href);
      expect(res.status).toBe(200);
      expect(String(res.url)).toContain(`/${x.tenantId}/account`);
      expect(res.html).toContain(x.email);
      // The carrying cookie went with its one landing.
      expect(b.cookieNames().some((c) => c.startsWith('idp_sign_in_token@'))).toBe(false);

      // Once only: the URL is dead now, in any browser.
      expect((await b.get(r.body.url)).status).toBe(400);
      expect((await new Browser().get(r.body.url)).status).toBe(400);

      const created = await auditOf(x.tenantId, x.key, 'sign_in_token.created');
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ actor_type: 'api_key', actor_id: x.keyId });
      const used = await auditOf(x.tenantId, x.key, 'sign_in_token.used');
      expect(used).toHaveLength(1);
      expect(used[0].details.issued_by).toBe(x.keyId);
      const success = await auditOf(x.tenantId, x.key, 'login.success');
      expect(success.filter((e) => e.method === 'sign_in_token')).toHaveLength(1);
    });

    it('continues a pending authorisation when one is named; openid-client redeems the code', async () => {
      const x = await setup();
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(String(s.page.url))![1];
      const r = await issue(t, x.tenantId, x.alice.user_id, x.key);
      const posted = await useToken(b, `${r.body.url}&interaction=${uid}`);
      expect(posted.status).toBe(303);
      expect(posted.location).toContain(`/interaction/${uid}`);
      const tokens = await tokensOf(b, x.config, s, posted);
      expect(tokens.claims()!.sub).toBe(x.alice.user_id);
    });

    it('still asks a TOTP user for the second factor', async () => {
      const x = await setup();
      await enrolTotp(t, x.tenantId, await selfToken(t, x.tenantId));
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(String(s.page.url))![1];
      const r = await issue(t, x.tenantId, x.alice.user_id, x.key);
      const posted = await useToken(b, `${r.body.url}&interaction=${uid}`);
      const landed = await b.get(new URL(posted.location!, posted.url).href);
      expect(landed.status).toBe(200);
      expect(landed.html).toContain('Two-step verification');
    });

    it('lists issued tokens without the tokens and revokes one, which then signs nobody in', async () => {
      const x = await setup();
      const y = await setup();
      const first = await issue(t, x.tenantId, x.alice.user_id, x.key);
      const second = await issue(t, x.tenantId, x.alice.user_id, x.key);
      expect(first.body.id).not.toBe(second.body.id);
      const b = new Browser();
      let res = await useToken(b, first.body.url);
      for (let i = 0; i < 12 && (res.status === 302 || res.status === 303); i++)
        res = await b.get(new URL(res.location!, res.url).href);
      expect(String(res.url)).toContain(`/${x.tenantId}/account`);

      const base = `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/sign-in-tokens`;
      const listed = await t.http('GET', `${base}?limit=1&sort_direction=1`, { key: x.key });
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({ total_count: 2, has_next: true });
      expect(listed.body.data).toHaveLength(1);
      expect(listed.body.data[0]).toMatchObject({
        id: first.body.id,
        state: 'used',
        created_by: x.keyId,
      });
      expect(listed.body.data[0].used_at).not.toBeNull();
      const all = await t.http('GET', base, { key: x.key });
      expect(all.body.data.map((d: { id: string }) => d.id)).toEqual([
        second.body.id,
        first.body.id,
      ]);
      expect(all.body.data[0].state).toBe('active');
      expect(JSON.stringify(all.body)).not.toContain(second.body.token);

      // Another tenant's key, another user's path, a malformed id: nothing to revoke there.
      expect([403, 404]).toContain(
        (await t.http('DELETE', `${base}/${second.body.id}`, { key: y.key })).status,
      );
      const bob = await t.http('POST', `/api/v1/tenants/${x.tenantId}/users`, {
        key: x.key,
        body: { username: 'bob', email: fixtures.uniqueEmail(x.tenantId, 'bob') },
      });
      expect(bob.status).toBe(201);
      const otherUser = `/api/v1/tenants/${x.tenantId}/users/${bob.body.user_id}/sign-in-tokens`;
      expect(
        (await t.http('DELETE', `${otherUser}/${second.body.id}`, { key: x.key })).status,
      ).toBe(404);
      expect((await t.http('DELETE', `${base}/not-a-uuid`, { key: x.key })).status).toBe(404);

      const revoked = await t.http('DELETE', `${base}/${second.body.id}`, { key: x.key });
      expect(revoked.status).toBe(204);
      expect((await new Browser().get(second.body.url)).status).toBe(400);
      expect((await t.http('DELETE', `${base}/${second.body.id}`, { key: x.key })).status).toBe(
        404,
      );
      const after = await t.http('GET', base, { key: x.key });
      expect(after.body.data.map((d: { id: string }) => d.id)).toEqual([first.body.id]);
      const audited = await auditOf(x.tenantId, x.key, 'sign_in_token.revoked');
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({ actor_type: 'api_key', actor_id: x.keyId });
      expect(audited[0].details.token_id).toBe(second.body.id);
    });

    it('refuses an expired token, a read-only key (403) and another tenant (404)', async () => {
      const x = await setup();
      const y = await setup();
      const r = await issue(t, x.tenantId, x.alice.user_id, x.key);
      await t.app
        .get(DataSource)
        .query(
          `UPDATE sign_in_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
          [x.tenantId],
        );
      expect((await new Browser().get(r.body.url)).status).toBe(400);
      const ro = await t.http('POST', `/api/v1/tenants/${x.tenantId}/api-keys`, {
        body: { name: 'ro', scopes: ['users:read'] },
      });
      expect(ro.status).toBe(201);
      expect((await issue(t, x.tenantId, x.alice.user_id, ro.body.api_key)).status).toBe(403);
      // Another tenant's user under this tenant, and this tenant's key on the other tenant.
      const cross = await issue(t, x.tenantId, y.alice.user_id, x.key);
      expect(cross.status).toBe(404);
      expect(cross.headers.get('content-type')).toContain('application/problem+json');
      expect([403, 404]).toContain((await issue(t, y.tenantId, y.alice.user_id, x.key)).status);
      // A token of one tenant is nothing under another.
      const fresh = await issue(t, x.tenantId, x.alice.user_id, x.key);
      const moved = fresh.body.url.replace(`/${x.tenantId}/`, `/${y.tenantId}/`);
      expect((await new Browser().get(moved)).status).toBe(400);
      expect((await issue(t, x.tenantId, x.alice.user_id, x.key, { expires_in: 10 })).status).toBe(
        400,
      );
    });
  });
});
