import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './harness.js';
import * as client from 'openid-client';
import { userSignIn, userToken } from './user-token-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';

const RECENT = 'urn:idp:problem:recent-authentication-required';

/** The routes that add, change or remove a credential of the user. */
function credentialCalls(base: string) {
  return [
    ['POST', `${base}/me/passkeys/registration-options`, undefined],
    ['POST', `${base}/me/totp`, undefined],
    ['POST', `${base}/me/email`, { new_email: 'mallory@example.test' }],
    ['DELETE', `${base}/me/passkeys/00000000-0000-4000-8000-000000000000`, undefined],
  ] as const;
}

/**
 * The self-service API (/me): every route declares a me:* scope; an admin-minted user key may
 * read and change the account but never enrol or remove a credential; that takes the user's
 * own access token from a recent sign-in.
 */
describe('self-service: user keys, user tokens and recent authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function tenantWithUser(
    tenantScopes = ['api-keys:write', 'users:write', 'me:read', 'me:write'],
  ) {
    const tenant = await fixtures.tenant(t, { scopes: tenantScopes });
    const user = await fixtures.user(t, tenant.tenantId, { email: 'alice@example.test' });
    const base = `/api/v1/tenants/${tenant.tenantId}`;
    const userKey = async (scopes: string[]) => {
      const k = await t.http('POST', `${base}/api-keys`, {
        key: tenant.key,
        body: { name: 'as alice', scopes, user_id: user.user_id },
      });
      expect(k.status).toBe(201);
      return k.body.api_key as string;
    };
    return { ...tenant, userId: user.user_id, base, userKey };
  }

  it('a scope-less user key reaches no /me route', async () => {
    const u = await tenantWithUser(['api-keys:write', 'users:write']);
    const key = await u.userKey([]);
    for (const [method, path] of [
      ['GET', `${u.base}/me`],
      ['GET', `${u.base}/me/sessions`],
      ['POST', `${u.base}/me/passkeys/registration-options`],
      ['POST', `${u.base}/me/totp`],
    ] as const) {
      const r = await t.http(method, path, { key });
      expect([method, path, r.status]).toEqual([method, path, 403]);
    }
  });

  it('an admin-minted user key reads and changes the account but enrols no credential', async () => {
    const u = await tenantWithUser();
    const key = await u.userKey(['me:read', 'me:write']);
    const me = await t.http('GET', `${u.base}/me`, { key });
    expect(me.status).toBe(200);
    expect(me.body.user_id).toBe(u.userId);
    expect((await t.http('GET', `${u.base}/me/sessions`, { key })).status).toBe(200);
    expect((await t.http('DELETE', `${u.base}/me/sessions`, { key })).status).toBe(200);
    for (const [method, path, body] of credentialCalls(u.base)) {
      const r = await t.http(method, path, { key, body });
      expect([method, path, r.status, r.body.type]).toEqual([method, path, 403, RECENT]);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await t.http('GET', `${u.base}/me/totp`, { key })).body.enabled).toBe(false);
  });

  it('no API key can be given me:credentials', async () => {
    const u = await tenantWithUser();
    const r = await t.http('POST', `${u.base}/api-keys`, {
      body: { name: 'as alice', scopes: ['me:credentials'], user_id: u.userId },
    });
    expect(r.status).toBe(400);
  });

  it("the user's own fresh token enrols TOTP and starts a passkey registration", async () => {
    const u = await tenantWithUser();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    const me = await t.http('GET', `${u.base}/me`, { key: token });
    expect(me.status).toBe(200);
    expect(me.body.user_id).toBe(u.userId);
    const totp = await t.http('POST', `${u.base}/me/totp`, { key: token });
    expect(totp.status).toBe(201);
    expect(totp.body.secret).toEqual(expect.any(String));
    const options = await t.http('POST', `${u.base}/me/passkeys/registration-options`, {
      key: token,
    });
    expect(options.status).toBe(200);
    // The token is for /me only: it is no API key anywhere else.
    expect((await t.http('GET', `${u.base}/users`, { key: token })).status).toBe(401);
  });

  it('a token without account:credentials reads the account but changes no credential', async () => {
    const u = await tenantWithUser();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD, 'openid account');
    expect((await t.http('GET', `${u.base}/me`, { key: token })).status).toBe(200);
    const r = await t.http('POST', `${u.base}/me/totp`, { key: token });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('me:credentials');
    const plain = await userToken(t, u.tenantId, 'alice', PASSWORD, 'openid profile');
    expect((await t.http('GET', `${u.base}/me`, { key: plain })).status).toBe(403);
  });

  it('a token from an older sign-in must sign in again for credential changes', async () => {
    const u = await tenantWithUser();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    await t.app.get(DataSource).query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{extra,auth_time}', to_jsonb($3::int))
         WHERE tenant_id = $1 AND model = 'AccessToken' AND id = $2`,
      [u.tenantId, token, hourAgo],
    );
    expect((await t.http('GET', `${u.base}/me`, { key: token })).status).toBe(200);
    for (const [method, path, body] of credentialCalls(u.base)) {
      const r = await t.http(method, path, { key: token, body });
      expect([method, path, r.status, r.body.type]).toEqual([method, path, 403, RECENT]);
    }
  });

  it('a refreshed token keeps the time of the sign-in: refreshing never makes it recent', async () => {
    const u = await tenantWithUser();
    const { config, tokens } = await userSignIn(t, u.tenantId, 'alice', PASSWORD);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(
      (await t.http('POST', `${u.base}/me/totp`, { key: refreshed.access_token })).status,
    ).toBe(201);
    // The sign-in was an hour ago: a refresh now answers a token that is just as old.
    await t.app.get(DataSource).query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{authTime}', to_jsonb($3::int))
         WHERE tenant_id = $1 AND model = 'RefreshToken' AND id = $2`,
      [u.tenantId, refreshed.refresh_token, Math.floor(Date.now() / 1000) - 3600],
    );
    const later = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    const r = await t.http('POST', `${u.base}/me/totp`, { key: later.access_token });
    expect([r.status, r.body.type]).toEqual([403, RECENT]);
    expect((await t.http('GET', `${u.base}/me`, { key: later.access_token })).status).toBe(200);
  });

  it("another tenant's token, a revoked token and a disabled user's token are refused", async () => {
    const u = await tenantWithUser();
    const other = await tenantWithUser();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    expect((await t.http('GET', `${other.base}/me`, { key: token })).status).toBe(401);

    const revoked = await userToken(t, u.tenantId, 'alice', PASSWORD);
    await t.app
      .get(DataSource)
      .query(`DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = 'Grant'`, [u.tenantId]);
    expect((await t.http('GET', `${u.base}/me`, { key: revoked })).status).toBe(401);

    const fresh = await userToken(t, other.tenantId, 'alice', PASSWORD);
    expect(
      (await t.http('POST', `${other.base}/users/${other.userId}/disable`, { body: {} })).status,
    ).toBe(200);
    expect((await t.http('GET', `${other.base}/me`, { key: fresh })).status).toBe(401);
  });
});
