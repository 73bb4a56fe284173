import * as client from 'openid-client';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { Browser, oauthError, signIn } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD, REDIRECT } from './fixtures.js';

async function signedIn(config: client.Configuration, username = 'alice') {
  const browser = new Browser();
  const s = await signIn(browser, config, {
    username,
    password: PASSWORD,
    redirectUri: REDIRECT,
    scope: 'openid profile',
  });
  const tokens = await fixtures.exchange(config, s);
  return { browser, tokens };
}

describe('sessions API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup() {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:write', 'api-keys:write', 'me:write'],
    });
    const { tenantId } = tenant;
    const alice = await fixtures.user(t, tenantId, { email: null });
    const bob = await fixtures.user(t, tenantId, { username: 'bob', email: null });
    const { c, config } = await fixtures.registeredClient(
      t,
      tenantId,
      fixtures.firstPartyApp(REDIRECT, {
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'offline_access'],
      }),
    );
    const userKey = async (userId: string) => {
      const k = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
        key: tenant.key,
        body: { name: 'self', scopes: ['me:write'], user_id: userId },
      });
      expect(k.status).toBe(201);
      return k.body.api_key as string;
    };
    return { ...tenant, alice, bob, config, client: c, userKey };
  }

  it('lists the user’s sessions with where they signed in, and revokes one with its tokens', async () => {
    const x = await setup();
    const a = await signedIn(x.config);
    const b = await signedIn(x.config);
    await signedIn(x.config, 'bob');
    const key = await x.userKey(x.alice.user_id);
    const base = `/api/v1/tenants/${x.tenantId}/me/sessions`;

    const list = await t.http('GET', base, { key });
    expect(list.status).toBe(200);
    expect(list.body.total_count).toBe(2);
    for (const s of list.body.data) {
      expect(s.session_id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(s.ip).toBe('127.0.0.1');
      expect(typeof s.user_agent).toBe('string');
      expect(s.client_ids).toEqual([x.client.client_id]);
      expect(Date.parse(s.created_at)).toBeLessThanOrEqual(Date.parse(s.last_seen_at));
      expect(Date.parse(s.expires_at)).toBeGreaterThan(Date.now());
    }
    const paged = await t.http('GET', `${base}?limit=1&offset=1`, { key });
    expect(paged.body.data).toHaveLength(1);
    expect(paged.body.has_next).toBe(false);

    // Which listed session is browser a's: revoke one, see whose refresh token dies.
    const [first, second] = list.body.data as Array<{ session_id: string }>;
    expect((await t.http('DELETE', `${base}/${first.session_id}`, { key })).status).toBe(204);
    const results = await Promise.allSettled([
      client.refreshTokenGrant(x.config, a.tokens.refresh_token!),
      client.refreshTokenGrant(x.config, b.tokens.refresh_token!),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason.error).toBe('invalid_grant');
    const after = await t.http('GET', base, { key });
    expect(after.body.data.map((s: { session_id: string }) => s.session_id)).toEqual([
      second.session_id,
    ]);

    // Gone already, malformed, and another user's session: all 404.
    expect((await t.http('DELETE', `${base}/${first.session_id}`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${base}/${'x'.repeat(65)}`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${base}/%27%3B--`, { key })).status).toBe(404);
    const bobKey = await x.userKey(x.bob.user_id);
    expect((await t.http('DELETE', `${base}/${second.session_id}`, { key: bobKey })).status).toBe(
      404,
    );
    expect((await t.http('GET', base, { key: bobKey })).body.total_count).toBe(1);

    // Revoke all: the remaining session's tokens stop, the browser must sign in again.
    const all = await t.http('DELETE', base, { key });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ revoked: 1 });
    expect((await t.http('GET', base, { key })).body.total_count).toBe(0);
    const live = results.find(
      (r) => r.status === 'fulfilled',
    ) as PromiseFulfilledResult<client.TokenEndpointResponse>;
    expect(await oauthError(client.refreshTokenGrant(x.config, live.value.refresh_token!))).toBe(
      'invalid_grant',
    );
    const again = await a.browser.get(
      client.buildAuthorizationUrl(x.config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'none',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    expect(again.location).toContain('error=login_required');
    // Bob is untouched.
    expect((await t.http('GET', base, { key: bobKey })).body.total_count).toBe(1);
  });

  it('keeps /me/sessions to user keys and refuses bad queries', async () => {
    const x = await setup();
    const base = `/api/v1/tenants/${x.tenantId}/me/sessions`;
    expect((await t.http('GET', base, { key: null })).status).toBe(401);
    expect((await t.http('GET', base, { key: x.key })).status).toBe(403);
    expect((await t.http('DELETE', base, { key: x.key })).status).toBe(403);
    const key = await x.userKey(x.alice.user_id);
    expect((await t.http('GET', `${base}?limit=0`, { key })).status).toBe(400);
    expect((await t.http('GET', `${base}?limit=abc`, { key })).status).toBe(400);
    expect((await t.http('GET', `${base}?sort_direction=2`, { key })).status).toBe(400);
    const empty = await t.http('GET', base, { key });
    expect(empty.body).toEqual({ data: [], has_next: false, total_count: 0 });
    expect((await t.http('DELETE', base, { key })).body).toEqual({ revoked: 0 });
    // Another tenant's key: 404 (tenant fence).
    const other = await newTenant(t, ['users:write']);
    expect(
      (
        await t.http('DELETE', `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/sessions`, {
          key: other.key,
        })
      ).status,
    ).toBe(404);
  });

  it('lets admins end every session of a user (users:write)', async () => {
    const x = await setup();
    const a = await signedIn(x.config);
    await signedIn(x.config);
    const path = `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/sessions`;
    const reader = await t.http('POST', `/api/v1/tenants/${x.tenantId}/api-keys`, {
      key: x.key,
      body: { name: 'reader', scopes: ['users:read'] },
    });
    expect((await t.http('DELETE', path, { key: reader.body.api_key })).status).toBe(403);
    const userKey = await x.userKey(x.alice.user_id);
    expect((await t.http('DELETE', path, { key: userKey })).status).toBe(403);
    expect(
      (
        await t.http('DELETE', `/api/v1/tenants/${x.tenantId}/users/not-a-uuid/sessions`, {
          key: x.key,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await t.http(
          'DELETE',
          `/api/v1/tenants/${x.tenantId}/users/00000000-0000-4000-8000-000000000000/sessions`,
          { key: x.key },
        )
      ).status,
    ).toBe(404);
    const r = await t.http('DELETE', path, { key: x.key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ revoked: 2 });
    expect(await oauthError(client.refreshTokenGrant(x.config, a.tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect((await t.http('DELETE', path, { key: x.key })).body).toEqual({ revoked: 0 });
  });
});
