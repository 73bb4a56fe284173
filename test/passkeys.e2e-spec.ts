import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './harness.js';
import { ProblemException } from '../src/common/problem.js';
import { toProblemException } from '../src/common/problem.filter.js';
import { PasskeysService } from '../src/passkeys/passkeys.service.js';
import { userToken } from './user-token-support.js';
import { b64u, cbor, SoftAuthenticator } from './webauthn-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';

/** The service refuses; the API answers that refusal as a 400 problem. */
async function expect400(p: Promise<unknown>, detail?: RegExp) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => toProblemException(e),
  );
  expect(err).toBeInstanceOf(ProblemException);
  expect((err as ProblemException).status).toBe(400);
  if (detail) expect((err as ProblemException).detail).toMatch(detail);
}
describe('passkeys', () => {
  let t: TestApp;
  let svc: PasskeysService;
  let rpId: string;
  beforeAll(async () => {
    t = await startTestApp();
    svc = t.app.get(PasskeysService);
    rpId = new URL(t.baseUrl).hostname;
  });
  afterAll(() => t.close());

  async function tenantWithUser(settings: Record<string, unknown> = {}) {
    const tenant = await fixtures.tenant(t, {
      scopes: ['api-keys:write', 'users:write'],
      settings: { display_name: 'Acme Passkeys', ...settings },
    });
    const user = await addUser(tenant, 'alice');
    return { ...tenant, ...user };
  }

  async function addUser(tenant: { tenantId: string; key: string }, username: string) {
    const user = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/users`, {
      key: tenant.key,
      body: { username, password: PASSWORD },
    });
    expect(user.status).toBe(201);
    const key = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/api-keys`, {
      key: tenant.key,
      body: { name: username, scopes: [], user_id: user.body.user_id },
    });
    return {
      userId: user.body.user_id as string,
      /** An admin-minted user key (no scopes): it reaches none of these routes. */
      apiKey: key.body.api_key as string,
      /** The user's own token from a fresh sign-in, which passkey changes ask for. */
      userKey: await userToken(t, tenant.tenantId, username, PASSWORD),
      base: `/api/v1/tenants/${tenant.tenantId}/me/passkeys`,
    };
  }

  async function registered(
    u: { base: string; userKey: string },
    authr = new SoftAuthenticator(rpId, t.baseUrl),
    name?: string,
  ) {
    const opts = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    expect(opts.status).toBe(200);
    const r = await t.http('POST', `${u.base}/registration`, {
      key: u.userKey,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
        ...(name ? { name } : {}),
      },
    });
    expect(r.status).toBe(201);
    return { authr, passkey: r.body };
  }

  it('registers a passkey for real: options name the RP and user, the response is verified and stored', async () => {
    const u = await tenantWithUser();
    const opts = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    expect(opts.status).toBe(200);
    expect(opts.body.challenge_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(opts.body.options).toMatchObject({
      rp: { name: 'Acme Passkeys', id: rpId },
      user: { name: 'alice' },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      excludeCredentials: [],
    });
    const authr = new SoftAuthenticator(rpId, t.baseUrl, { synced: true });
    const r = await t.http('POST', `${u.base}/registration`, {
      key: u.userKey,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
        name: 'Work laptop',
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      credential_id: authr.id,
      user_id: u.userId,
      name: 'Work laptop',
      transports: ['internal', 'hybrid'],
      backed_up: true,
      device_type: 'multiDevice',
      counter: 0,
      last_used_at: null,
    });

    const list = await t.http('GET', u.base, { key: u.userKey });
    expect(list.body).toMatchObject({ total_count: 1, has_next: false });
    expect(list.body.data[0].passkey_id).toBe(r.body.passkey_id);

    // The next options exclude it, and registering the same credential twice is a conflict.
    const again = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    expect(again.body.options.excludeCredentials).toEqual([
      { id: authr.id, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    const dup = await t.http('POST', `${u.base}/registration`, {
      key: u.userKey,
      body: {
        challenge_id: again.body.challenge_id,
        response: authr.register(again.body.options.challenge),
      },
    });
    expect(dup.status).toBe(409);
  });

  it('refuses a reused, wrong, expired or foreign registration challenge', async () => {
    const u = await tenantWithUser();
    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    const opts = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    const response = authr.register(opts.body.options.challenge);
    const send = (body: unknown, key = u.userKey) =>
      t.http('POST', `${u.base}/registration`, { key, body });

    // Signed over another challenge.
    const other = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    const wrong = await send({ challenge_id: other.body.challenge_id, response });
    expect(wrong.status).toBe(400);
    expect(wrong.body.type).toBe('urn:idp:problem:webauthn-failed');
    // That attempt spent the other challenge.
    const spent = await send({
      challenge_id: other.body.challenge_id,
      response: authr.register(other.body.options.challenge),
    });
    expect(spent.status).toBe(400);
    expect(spent.body.detail).toMatch(/already used/);

    // Another user's challenge.
    const bob = await addUser(u, 'bob');
    expect(
      (await send({ challenge_id: opts.body.challenge_id, response }, bob.userKey)).status,
    ).toBe(400);
    // Bob's attempt spent it too: alice cannot finish either.
    expect((await send({ challenge_id: opts.body.challenge_id, response })).status).toBe(400);

    // Wrong origin and wrong ceremony type.
    const o2 = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    const badOrigin = await send({
      challenge_id: o2.body.challenge_id,
      response: authr.register(o2.body.options.challenge, { origin: 'https://evil.test' }),
    });
    expect(badOrigin.status).toBe(400);
    expect(badOrigin.body.detail).toMatch(/origin/i);
    const o3 = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    expect(
      (
        await send({
          challenge_id: o3.body.challenge_id,
          response: authr.register(o3.body.options.challenge, { type: 'webauthn.get' }),
        })
      ).status,
    ).toBe(400);

    // Expired.
    const o4 = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    await t.app
      .get(DataSource)
      .query(
        `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND challenge_id = $2`,
        [u.tenantId, o4.body.challenge_id],
      );
    const expired = await send({
      challenge_id: o4.body.challenge_id,
      response: authr.register(o4.body.options.challenge),
    });
    expect(expired.status).toBe(400);

    // Nothing was stored by any of these.
    expect((await t.http('GET', u.base, { key: u.userKey })).body.total_count).toBe(0);

    // Unknown challenge id.
    expect(
      (await send({ challenge_id: '6b0c3a56-6f4b-4f0e-9d0b-0d6c2f1e7a11', response })).status,
    ).toBe(400);
  });

  it('answers 400 to malformed registration bodies, never 500', async () => {
    const u = await tenantWithUser();
    const opts = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    const good = new SoftAuthenticator(rpId, t.baseUrl).register(opts.body.options.challenge);
    const bodies: unknown[] = [
      undefined,
      {},
      { challenge_id: 'nope', response: good },
      { challenge_id: opts.body.challenge_id },
      { challenge_id: opts.body.challenge_id, response: 'x' },
      { challenge_id: opts.body.challenge_id, response: [] },
      { challenge_id: opts.body.challenge_id, response: good, name: '' },
      { challenge_id: opts.body.challenge_id, response: good, name: 'x'.repeat(65) },
      { challenge_id: opts.body.challenge_id, response: good, name: 'a\u0000b' },
      { challenge_id: opts.body.challenge_id, response: good, extra: true },
    ];
    for (const body of bodies) {
      const r = await t.http('POST', `${u.base}/registration`, { key: u.userKey, body });
      expect(r.status).toBe(400);
    }
    // Broken in every layer, each against a fresh challenge so the parsing gets that far.
    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    type Reg = ReturnType<SoftAuthenticator['register']>;
    const garbage: Array<(g: Reg) => unknown> = [
      () => ({ id: 'x' }),
      (g) => ({ ...g, response: {} }),
      (g) => ({ ...g, response: { clientDataJSON: 'not base64 !!', attestationObject: 'AAAA' } }),
      (g) => ({
        ...g,
        response: { ...g.response, attestationObject: b64u(cbor({ fmt: 'none' })) },
      }),
      (g) => ({
        ...g,
        response: {
          ...g.response,
          attestationObject: b64u(cbor({ fmt: 'packed', attStmt: {}, authData: randomBytes(40) })),
        },
      }),
      (g) => ({ ...g, response: { ...g.response, attestationObject: b64u(randomBytes(64)) } }),
      (g) => ({ ...g, response: { ...g.response, clientDataJSON: b64u('{"type":1}') } }),
      (g) => ({ ...g, response: { ...g.response, clientDataJSON: b64u('not json') } }),
      (g) => ({ ...g, type: 'password' }),
      (g) => ({ ...g, id: 'another-id', rawId: 'another-id' }),
    ];
    for (const broken of garbage) {
      const o = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
      const r = await t.http('POST', `${u.base}/registration`, {
        key: u.userKey,
        body: {
          challenge_id: o.body.challenge_id,
          response: broken(authr.register(o.body.options.challenge)),
        },
      });
      expect(r.status).toBe(400);
      expect(r.body.type).toMatch(/webauthn-failed|validation-error/);
    }
    // A credential id longer than WebAuthn allows (1023 bytes): refused, not a database error.
    const long = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    const tooLong = await t.http('POST', `${u.base}/registration`, {
      key: u.userKey,
      body: {
        challenge_id: long.body.challenge_id,
        response: new SoftAuthenticator(rpId, t.baseUrl, { idBytes: 4000 }).register(
          long.body.options.challenge,
        ),
      },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.detail).toMatch(/1023/);
  });

  it('signs in with a discoverable passkey and with a username; counters and last use are kept', async () => {
    const u = await tenantWithUser();
    const { authr, passkey } = await registered(u);

    const discoverable = await svc.authenticationOptions(u.tenantId);
    expect(discoverable.options.allowCredentials).toBeUndefined();
    expect(discoverable.options).toMatchObject({ rpId, userVerification: 'required' });
    const userId = await svc.verifyAuthentication(
      u.tenantId,
      discoverable.challenge_id,
      authr.assert(discoverable.options.challenge, { userHandle: u.userId }) as never,
    );
    expect(userId).toBe(u.userId);

    const named = await svc.authenticationOptions(u.tenantId, 'ALICE');
    expect(named.options.allowCredentials).toEqual([
      { id: authr.id, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    expect(
      await svc.verifyAuthentication(
        u.tenantId,
        named.challenge_id,
        authr.assert(named.options.challenge) as never,
      ),
    ).toBe(u.userId);

    const [row] = (await t.http('GET', u.base, { key: u.userKey })).body.data;
    expect(row.passkey_id).toBe(passkey.passkey_id);
    expect(row.counter).toBe(authr.counter);
    expect(row.last_used_at).toEqual(expect.any(String));
  });

  it('refuses replayed assertions, counters that do not move, and wrong or expired challenges', async () => {
    const u = await tenantWithUser();
    const { authr } = await registered(u);

    const a = await svc.authenticationOptions(u.tenantId);
    const assertion = authr.assert(a.options.challenge) as never;
    expect(await svc.verifyAuthentication(u.tenantId, a.challenge_id, assertion)).toBe(u.userId);
    // The same assertion again: its challenge is spent.
    await expect400(
      svc.verifyAuthentication(u.tenantId, a.challenge_id, assertion),
      /already used/,
    );

    // A fresh challenge, but the counter did not move (a cloned authenticator).
    const b = await svc.authenticationOptions(u.tenantId);
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        b.challenge_id,
        authr.assert(b.options.challenge, { counter: authr.counter }) as never,
      ),
      /counter/i,
    );

    // Signed over another challenge.
    const c = await svc.authenticationOptions(u.tenantId);
    const d = await svc.authenticationOptions(u.tenantId);
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        c.challenge_id,
        authr.assert(d.options.challenge) as never,
      ),
    );

    // Expired.
    const e = await svc.authenticationOptions(u.tenantId);
    await t.app
      .get(DataSource)
      .query(
        `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND challenge_id = $2`,
        [u.tenantId, e.challenge_id],
      );
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        e.challenge_id,
        authr.assert(e.options.challenge) as never,
      ),
    );

    // A registration challenge is not an authentication challenge.
    const reg = await t.http('POST', `${u.base}/registration-options`, { key: u.userKey });
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        reg.body.challenge_id,
        authr.assert(reg.body.options.challenge) as never,
      ),
    );

    // Tampered signature, wrong origin.
    const f = await svc.authenticationOptions(u.tenantId);
    const tampered = authr.assert(f.options.challenge);
    const sig = Buffer.from(tampered.response.signature, 'base64url');
    sig[sig.length - 1] ^= 1;
    tampered.response.signature = b64u(sig);
    await expect400(svc.verifyAuthentication(u.tenantId, f.challenge_id, tampered as never));
    const g = await svc.authenticationOptions(u.tenantId);
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        g.challenge_id,
        authr.assert(g.options.challenge, { origin: 'https://evil.test' }) as never,
      ),
    );

    // Garbage in place of a response.
    for (const bad of [
      undefined,
      null,
      {},
      { id: 5 },
      { id: authr.id },
      { id: authr.id, response: 'x' },
      'x',
    ]) {
      const h = await svc.authenticationOptions(u.tenantId);
      await expect400(svc.verifyAuthentication(u.tenantId, h.challenge_id, bad as never));
    }
    for (const badId of ['', 'nope', undefined, 42]) {
      await expect400(
        svc.verifyAuthentication(u.tenantId, badId as never, authr.assert('x') as never),
      );
    }

    // Still signs in after all that.
    const ok = await svc.authenticationOptions(u.tenantId);
    expect(
      await svc.verifyAuthentication(
        u.tenantId,
        ok.challenge_id,
        authr.assert(ok.options.challenge) as never,
      ),
    ).toBe(u.userId);
  });

  it('accepts authenticators that keep no counter (always 0)', async () => {
    const u = await tenantWithUser();
    const { authr } = await registered(u, new SoftAuthenticator(rpId, t.baseUrl, { counter: 0 }));
    for (let i = 0; i < 2; i += 1) {
      const o = await svc.authenticationOptions(u.tenantId);
      expect(
        await svc.verifyAuthentication(
          u.tenantId,
          o.challenge_id,
          authr.assert(o.options.challenge) as never,
        ),
      ).toBe(u.userId);
    }
  });

  it("refuses another user's passkey for a named sign-in, and hides whether a username exists", async () => {
    const u = await tenantWithUser();
    const { authr: alices } = await registered(u);
    const bob = await addUser(u, 'bob');
    await registered(bob);

    const forBob = await svc.authenticationOptions(u.tenantId, 'bob');
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        forBob.challenge_id,
        alices.assert(forBob.options.challenge) as never,
      ),
    );

    const ghost1 = await svc.authenticationOptions(u.tenantId, 'ghost');
    const ghost2 = await svc.authenticationOptions(u.tenantId, 'Ghost');
    expect(ghost1.options.allowCredentials).toHaveLength(1);
    expect(ghost1.options.allowCredentials).toEqual(ghost2.options.allowCredentials);
    expect(ghost1.options.allowCredentials![0].id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect400(
      svc.verifyAuthentication(
        u.tenantId,
        ghost1.challenge_id,
        alices.assert(ghost1.options.challenge) as never,
      ),
    );
    // A user without passkeys looks the same as an unknown one.
    await addUser(u, 'carol');
    const carol = await svc.authenticationOptions(u.tenantId, 'carol');
    expect(carol.options.allowCredentials).toHaveLength(1);
    expect(carol.options.allowCredentials![0].id).not.toBe(ghost1.options.allowCredentials![0].id);
  });

  it("refuses a credential of another tenant, and a disabled user's passkey", async () => {
    const a = await tenantWithUser();
    const { authr } = await registered(a);
    const b = await tenantWithUser();
    const o = await svc.authenticationOptions(b.tenantId);
    await expect400(
      svc.verifyAuthentication(
        b.tenantId,
        o.challenge_id,
        authr.assert(o.options.challenge) as never,
      ),
      /not registered/,
    );
    // A challenge of tenant A presented to tenant B is unknown there.
    const oa = await svc.authenticationOptions(a.tenantId);
    await expect400(
      svc.verifyAuthentication(
        b.tenantId,
        oa.challenge_id,
        authr.assert(oa.options.challenge) as never,
      ),
    );

    expect(
      (
        await t.http('POST', `/api/v1/tenants/${a.tenantId}/users/${a.userId}/disable`, {
          key: a.key,
        })
      ).status,
    ).toBe(200);
    const od = await svc.authenticationOptions(a.tenantId);
    await expect400(
      svc.verifyAuthentication(
        a.tenantId,
        od.challenge_id,
        authr.assert(od.options.challenge) as never,
      ),
    );
  });

  it('lists, renames and deletes passkeys: users their own, admins any, never across tenants', async () => {
    const u = await tenantWithUser();
    const { passkey } = await registered(u, undefined, 'Phone');
    const bob = await addUser(u, 'bob');
    const pk = `${u.base}/${passkey.passkey_id}`;

    const renamed = await t.http('PATCH', pk, { key: u.userKey, body: { name: 'Old phone' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Old phone');
    for (const body of [
      {},
      { name: '' },
      { name: 5 },
      { name: 'x'.repeat(65) },
      { name: 'ok', more: 1 },
    ])
      expect((await t.http('PATCH', pk, { key: u.userKey, body })).status).toBe(400);

    // Bob cannot see, rename or delete alice's passkey.
    expect((await t.http('GET', bob.base, { key: bob.userKey })).body.total_count).toBe(0);
    expect((await t.http('PATCH', pk, { key: bob.userKey, body: { name: 'mine' } })).status).toBe(
      404,
    );
    expect((await t.http('DELETE', pk, { key: bob.userKey })).status).toBe(404);
    expect((await t.http('DELETE', `${u.base}/not-a-uuid`, { key: u.userKey })).status).toBe(404);
    // Tenant keys are not users.
    expect((await t.http('GET', u.base, { key: u.key })).status).toBe(403);

    const admin = `/api/v1/tenants/${u.tenantId}/users/${u.userId}/passkeys`;
    const listed = await t.http('GET', admin, { key: u.key });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((p: { name: string }) => p.name)).toEqual(['Old phone']);
    expect((await t.http('GET', admin, { key: u.apiKey })).status).toBe(403);
    const ro = await t.http('POST', `/api/v1/tenants/${u.tenantId}/api-keys`, {
      key: u.key,
      body: { name: 'ro', scopes: ['users:read'] },
    });
    expect((await t.http('GET', admin, { key: ro.body.api_key })).status).toBe(200);
    expect(
      (await t.http('DELETE', `${admin}/${passkey.passkey_id}`, { key: ro.body.api_key })).status,
    ).toBe(403);
    expect(
      (
        await t.http('GET', `/api/v1/tenants/${u.tenantId}/users/${bob.userId}/passkeys`, {
          key: u.key,
        })
      ).body.total_count,
    ).toBe(0);
    expect(
      (await t.http('GET', `/api/v1/tenants/${u.tenantId}/users/nobody/passkeys`, { key: u.key }))
        .status,
    ).toBe(404);

    const other = await tenantWithUser();
    expect((await t.http('GET', admin, { key: other.key })).status).toBe(404);
    expect(
      (await t.http('DELETE', `${admin}/${passkey.passkey_id}`, { key: other.key })).status,
    ).toBe(404);
    expect(
      (
        await t.http(
          'DELETE',
          `/api/v1/tenants/${other.tenantId}/users/${u.userId}/passkeys/${passkey.passkey_id}`,
          {
            key: other.key,
          },
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await t.http(
          'DELETE',
          `/api/v1/tenants/${other.tenantId}/me/passkeys/${passkey.passkey_id}`,
          { key: u.apiKey },
        )
      ).status,
    ).toBe(404);

    // Alice deletes her own; the admin route then finds nothing.
    expect((await t.http('DELETE', pk, { key: u.userKey })).status).toBe(204);
    expect((await t.http('GET', admin, { key: u.key })).body.total_count).toBe(0);
    const { passkey: second } = await registered(u);
    expect((await t.http('DELETE', `${admin}/${second.passkey_id}`, { key: u.key })).status).toBe(
      204,
    );
    expect((await t.http('DELETE', `${admin}/${second.passkey_id}`, { key: u.key })).status).toBe(
      404,
    );
  });

  it('is off when the tenant turns passkeys off', async () => {
    const u = await tenantWithUser({ passkey_enabled: false });
    expect(
      (await t.http('POST', `${u.base}/registration-options`, { key: u.userKey })).status,
    ).toBe(403);
    const err = await svc
      .authenticationOptions(u.tenantId)
      .catch((e: unknown) => toProblemException(e));
    expect((err as ProblemException).status).toBe(403);
  });

  it('serves the @simplewebauthn/browser bundle with long cache headers, without a key', async () => {
    const r = await t.http('GET', '/assets/simplewebauthn-browser.js', { key: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(r.text).toContain('SimpleWebAuthnBrowser');
    expect(r.text).toContain('startAuthentication');
  });
});
