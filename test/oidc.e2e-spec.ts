import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { waitUntil, startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import {
  Browser,
  createClient,
  createTenant,
  discover,
  findForm,
  oauthError,
  signIn,
} from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { REDIRECT } from './fixtures.js';

const msg = (h: string) => /role="alert">([^<]*)</.exec(h)?.[1];

describe('per-tenant OpenID Provider', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function tenantWithUser(settings: Record<string, unknown> = {}) {
    const { tenantId, issuer } = await fixtures.tenant(t, { prefix: 'oidc', settings });
    const user = await fixtures.user(t, tenantId, {
      given_name: 'Alice',
      family_name: 'Liddell',
      roles: ['admin'],
    });
    return { tenantId, issuer, user };
  }

  it('serves discovery with the issuer from PUBLIC_URL and the RFC 8414 route', async () => {
    const { tenantId, issuer } = await tenantWithUser();
    const r = await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, {
      key: null,
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      revocation_endpoint: `${issuer}/revoke`,
      introspection_endpoint: `${issuer}/introspect`,
      end_session_endpoint: `${issuer}/logout`,
      device_authorization_endpoint: `${issuer}/device/auth`,
      pushed_authorization_request_endpoint: `${issuer}/request`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(r.body.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'roles', 'groups', 'offline_access']),
    );
    expect(r.body.id_token_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['RS256', 'ES256', 'EdDSA']),
    );
    const rfc8414 = await t.http('GET', `/.well-known/oauth-authorization-server/${tenantId}`, {
      key: null,
    });
    expect(rfc8414.status).toBe(200);
    expect(rfc8414.body.issuer).toBe(issuer);
    expect(rfc8414.body.token_endpoint).toBe(`${issuer}/token`);

    const jwks = await t.http('GET', `/${tenantId}/jwks`, { key: null });
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k: { alg: string }) => k.alg).toSorted()).toEqual(
      expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
    );
    for (const k of jwks.body.keys) {
      expect(k.d).toBeUndefined();
      expect(k.p).toBeUndefined();
    }
  });

  it('answers 404 for an unknown tenant and leaves other paths alone', async () => {
    const r = await t.http(
      'GET',
      `/no-such-tenant-${Date.now()}/.well-known/openid-configuration`,
      {
        key: null,
      },
    );
    expect(r.status).toBe(404);
    const rfc = await t.http('GET', `/.well-known/oauth-authorization-server/nope-${Date.now()}`, {
      key: null,
    });
    expect(rfc.status).toBe(404);
    expect((await t.http('GET', '/health', { key: null })).status).toBe(200);
  });

  it('issues JWT access tokens to client_credentials clients', async () => {
    const { tenantId, issuer } = await tenantWithUser();
    const c = await createClient(t, tenantId, {
      client_type: 'confidential',
      grant_types: ['client_credentials'],
      allowed_scopes: ['orders:read', 'orders:write'],
    });
    const config = await discover(issuer, c.client_id, c.client_secret);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
    expect(tokens.token_type).toMatch(/bearer/i);
    expect(tokens.scope).toBe('orders:read');
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer,
      audience: issuer,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ client_id: c.client_id, scope: 'orders:read' });

    // A scope the client does not hold never appears in the token.
    const other = await client.clientCredentialsGrant(config, { scope: 'orders:read admin:all' });
    expect(other.scope).toBe('orders:read');

    expect(
      await oauthError(
        client.clientCredentialsGrant(await discover(issuer, c.client_id, 'wrong-secret')),
      ),
    ).toBe('invalid_client');
    expect(
      await oauthError(
        client.clientCredentialsGrant(await discover(issuer, 'no-such-client', 'x')),
      ),
    ).toBe('invalid_client');
  });

  it.each(['RS256', 'ES256', 'EdDSA'])(
    'runs the code flow with PKCE through the hosted login (ID token %s)',
    async (alg) => {
      const { tenantId, issuer, user } = await tenantWithUser();
      const c = await createClient(t, tenantId, {
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'email', 'roles', 'groups'],
        id_token_signed_response_alg: alg,
      });
      const config = await discover(issuer, c.client_id, c.client_secret, {
        id_token_signed_response_alg: alg,
      });
      const browser = new Browser();
      const s = await signIn(browser, config, {
        username: 'alice',
        password: 'correct horse battery staple',
        scope: 'openid profile email roles',
        redirectUri: REDIRECT,
      });
      const tokens = await fixtures.exchange(config, s);
      const idToken = tokens.id_token!;
      expect(decodeProtectedHeader(idToken).alg).toBe(alg);
      const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${issuer}/jwks`)), {
        issuer,
        audience: c.client_id,
        algorithms: [alg],
      });
      expect(payload).toMatchObject({
        sub: user.user_id,
        tenant_id: tenantId,
        nonce: s.nonce,
        preferred_username: 'alice',
        email: 'alice@example.com',
        roles: ['admin'],
      });

      const info = await client.fetchUserInfo(config, tokens.access_token, user.user_id);
      expect(info).toMatchObject({
        sub: user.user_id,
        tenant_id: tenantId,
        name: 'Alice Liddell',
        given_name: 'Alice',
        family_name: 'Liddell',
        preferred_username: 'alice',
        email: 'alice@example.com',
        email_verified: false,
        roles: ['admin'],
      });
      expect(info.groups).toBeUndefined();

      // Cookies stay under the tenant's path.
      for (const name of browser.cookieNames())
        expect(name).toMatch(new RegExp(`@/${tenantId}(/|$)`));
    },
  );

  it('shows the same message for an unknown user and a wrong password', async () => {
    const { tenantId, issuer } = await tenantWithUser();
    const c = await createClient(t, tenantId, {
      client_type: 'public',
      redirect_uris: [REDIRECT],
    });
    const config = await discover(issuer, c.client_id);
    const browser = new Browser();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const start = await browser.get(url);
    const page = await browser.get(start.location!);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<html lang="en">/);
    expect(page.html.match(/<h1>/g)).toHaveLength(1);
    expect(page.html).toContain('<label for="login">');
    expect(page.html).toContain('<label for="password">');
    const form = findForm(page.html, '/login');
    const wrong = await browser.post(new URL(form.action, t.baseUrl), {
      ...form.fields,
      login: 'alice',
      password: 'nope nope nope',
    });
    const unknown = await browser.post(new URL(form.action, t.baseUrl), {
      ...form.fields,
      login: 'mallory',
      password: 'nope nope nope',
    });
    expect(wrong.status).toBe(unknown.status);
    expect(msg(wrong.html)).toBeDefined();
    expect(msg(wrong.html)).toBe(msg(unknown.html));

    // A post without the right CSRF token is refused.
    const forged = await browser.post(new URL(form.action, t.baseUrl), {
      csrf: 'forged',
      method: 'password',
      login: 'alice',
      password: 'correct horse battery staple',
    });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeUndefined();
  });

  it('blocks repeated failures without telling a blocked account apart, and audits sign-ins', async () => {
    const { tenantId, issuer, user } = await tenantWithUser({
      block_config: { user: { max_attempts: 3, window_seconds: 300, block_seconds: 300 } },
    });
    const c = await createClient(t, tenantId, {
      client_type: 'public',
      redirect_uris: [REDIRECT],
      first_party: true,
    });
    const config = await discover(issuer, c.client_id);
    await signIn(new Browser(), config, {
      username: 'alice',
      password: 'correct horse battery staple',
      redirectUri: REDIRECT,
      scope: 'openid',
    });

    const browser = new Browser();
    const start = await browser.get(
      client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    const page = await browser.get(start.location!);
    const form = findForm(page.html, '/login');
    const attempt = (password: string) =>
      browser.post(new URL(form.action, t.baseUrl), { ...form.fields, login: 'ALICE', password });
    const wrong = await attempt('wrong password 1');
    for (let i = 2; i <= 3; i++) await attempt(`wrong password ${i}`);
    const blocked = await attempt('correct horse battery staple');
    expect(blocked.status).toBe(wrong.status);
    expect(blocked.location).toBeUndefined();
    expect(msg(blocked.html)).toBe(msg(wrong.html));

    let events: Array<{ type: string; subject_id: string | null; method: string }> = [];
    await waitUntil(
      'five login events',
      async () => {
        const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?limit=50`);
        events = (r.body?.data ?? []).filter((e: { type: string }) => e.type.startsWith('login.'));
        return events.length >= 5;
      },
      { timeoutMs: 4_000, intervalMs: 100 },
    );
    const types = events.map((e) => e.type);
    expect(types.filter((x) => x === 'login.success')).toHaveLength(1);
    expect(types.filter((x) => x === 'login.failure')).toHaveLength(4);
    const success = events.find((e) => e.type === 'login.success')!;
    expect(success).toMatchObject({ subject_id: user.user_id, method: 'password' });
  });

  it('rebuilds a tenant provider after a change and forgets a deleted tenant', async () => {
    const { tenantId, issuer } = await tenantWithUser({ display_name: 'Before Corp' });
    const c = await createClient(t, tenantId, { client_type: 'public', redirect_uris: [REDIRECT] });
    const config = await discover(issuer, c.client_id);
    const loginPage = async () => {
      const browser = new Browser();
      const start = await browser.get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      return (await browser.get(start.location!)).html;
    };
    expect(await loginPage()).toContain('Before Corp');
    const patched = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      body: { display_name: 'After <Corp>', primary_color: '#ff0000' },
    });
    expect(patched.status).toBe(200);
    const html = await loginPage();
    expect(html).toContain('After &lt;Corp&gt;');
    expect(html).not.toContain('After <Corp>');
    expect(html).toContain('--primary:#ff0000');

    // A tenant without users, so the deletion exercises this module only.
    const doomed = uniqueTenantId('oidc');
    await createTenant(t, doomed);
    const live = await t.http('GET', `/${doomed}/.well-known/openid-configuration`, { key: null });
    expect(live.status).toBe(200);
    expect((await t.http('DELETE', `/api/v1/tenants/${doomed}`)).status).toBe(204);
    const gone = await t.http('GET', `/${doomed}/.well-known/openid-configuration`, { key: null });
    expect(gone.status).toBe(404);
  });
});
