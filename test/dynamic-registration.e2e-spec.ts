import * as client from 'openid-client';
import { PASSWORD, REDIRECT, exchange, signedIn, tenant, user } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';

/**
 * Dynamic client registration (RFC 7591) and management (RFC 7592), per tenant, off by default,
 * driven by openid-client's own registration and plain fetch for the management calls.
 */
describe('dynamic client registration', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const register = (tenantId: string, body: unknown, token?: string) =>
    fetch(`${t.baseUrl}/${tenantId}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });

  async function enabled(bounds: Record<string, unknown> = {}) {
    const tf = await tenant(t, { scopes: ['clients:write', 'clients:read', 'tenants:write'] });
    const on = await t.http('PATCH', `/api/v1/tenants/${tf.tenantId}`, {
      body: { dynamic_registration: { enabled: true, ...bounds } },
    });
    expect(on.status).toBe(200);
    return tf;
  }

  async function initialToken(tenantId: string, key: string, body: Record<string, unknown> = {}) {
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/initial-access-tokens`, {
      key,
      body,
    });
    expect(r.status).toBe(201);
    return r.body as { token_id: string; initial_access_token: string };
  }

  it('is off by default: no endpoint in discovery, 404 at /register', async () => {
    const tf = await tenant(t);
    const doc = (await t.http('GET', `/${tf.tenantId}/.well-known/openid-configuration`)).body;
    expect(doc).not.toHaveProperty('registration_endpoint');
    const r = await register(tf.tenantId, { redirect_uris: [REDIRECT] });
    expect(r.status).toBe(404);
  });

  it('registers with an initial access token (openid-client), and the client signs a user in', async () => {
    const tf = await enabled();
    await user(t, tf.tenantId);
    const doc = (await t.http('GET', `/${tf.tenantId}/.well-known/openid-configuration`)).body;
    expect(doc.registration_endpoint).toBe(`${tf.issuer}/register`);
    const iat = await initialToken(tf.tenantId, tf.key, { max_uses: 1, description: 'agent' });

    const config = await client.dynamicClientRegistration(
      new URL(tf.issuer),
      {
        client_name: 'Agent app',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile offline_access',
      },
      undefined,
      { initialAccessToken: iat.initial_access_token, execute: [client.allowInsecureRequests] },
    );
    const meta = config.clientMetadata();
    expect(meta.client_secret).toEqual(expect.any(String));
    expect(meta.registration_access_token).toEqual(expect.stringMatching(/^idp_rat_/));
    // The admin sees an ordinary client (consent applies: not first-party).
    const admin = await t.http('GET', `/api/v1/tenants/${tf.tenantId}/clients/${meta.client_id}`, {
      key: tf.key,
    });
    expect(admin.body).toMatchObject({
      name: 'Agent app',
      client_type: 'confidential',
      first_party: false,
    });

    const s = await signedIn(config, { scope: 'openid profile', password: PASSWORD });
    const tokens = await exchange(config, s);
    expect(tokens.claims()!.aud).toBe(meta.client_id);

    // The token was for one client: spent. Without one, or with a forged one: 401.
    for (const token of [iat.initial_access_token, undefined, 'idp_iat_forged']) {
      const again = await register(tf.tenantId, { redirect_uris: [REDIRECT] }, token);
      expect(again.status).toBe(401);
      expect(again.headers.get('www-authenticate')).toContain('invalid_token');
      expect(await again.json()).toMatchObject({ error: 'invalid_token' });
    }
    const list = await t.http('GET', `/api/v1/tenants/${tf.tenantId}/initial-access-tokens`, {
      key: tf.key,
    });
    expect(list.body).toMatchObject({
      total_count: 1,
      data: [{ token_id: iat.token_id, uses: 1 }],
    });
    expect(JSON.stringify(list.body)).not.toContain(iat.initial_access_token);
  });

  it('keeps registrations inside the tenant bounds, with RFC 7591 errors', async () => {
    const tf = await enabled({
      grant_types: ['authorization_code'],
      scopes: ['openid', 'profile'],
    });
    const iat = await initialToken(tf.tenantId, tf.key);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ redirect_uris: ['myapp:/cb'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['http://example.com/cb'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['https://a.example/cb#frag'] }, 'invalid_redirect_uri'],
      [
        { redirect_uris: [REDIRECT], grant_types: ['client_credentials'] },
        'invalid_client_metadata',
      ],
      [{ redirect_uris: [REDIRECT], scope: 'openid admin' }, 'invalid_client_metadata'],
      [{ redirect_uris: [REDIRECT], response_types: ['token'] }, 'invalid_client_metadata'],
      [
        { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'magic' },
        'invalid_client_metadata',
      ],
      [{ redirect_uris: 'not-a-list' }, 'invalid_redirect_uri'],
    ];
    for (const [body, error] of cases) {
      const r = await register(tf.tenantId, body, iat.initial_access_token);
      expect([body, r.status, ((await r.json()) as { error: string }).error]).toEqual([
        body,
        400,
        error,
      ]);
    }
    const notJson = await fetch(`${t.baseUrl}/${tf.tenantId}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${iat.initial_access_token}`,
      },
      body: '[1,2]',
    });
    expect(notJson.status).toBe(400);
    // Refusals did not spend the token.
    const ok = await register(tf.tenantId, { redirect_uris: [REDIRECT] }, iat.initial_access_token);
    expect(ok.status).toBe(201);
  });

  it('manages a registration with its registration access token only (RFC 7592)', async () => {
    const tf = await enabled({ require_initial_access_token: false, client_types: ['public'] });
    // Open registration, public clients only here.
    const refused = await register(tf.tenantId, { redirect_uris: [REDIRECT] });
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_client_metadata');
    const r = await register(tf.tenantId, {
      client_name: 'CLI',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    expect(r.status).toBe(201);
    const reg = (await r.json()) as Record<string, string>;
    expect(reg).not.toHaveProperty('client_secret');
    const uri = reg.registration_client_uri;
    expect(uri).toBe(`${tf.issuer}/register/${reg.client_id}`);
    const auth = { authorization: `Bearer ${reg.registration_access_token}` };

    const read = await fetch(uri, { headers: auth });
    expect(await read.json()).toMatchObject({ client_id: reg.client_id, client_name: 'CLI' });
    for (const bad of [{}, { authorization: 'Bearer idp_rat_wrong' }]) {
      expect((await fetch(uri, { headers: bad })).status).toBe(401);
    }
    // Another tenant's path with this token: nothing there for it.
    const other = await enabled();
    expect(
      (await fetch(`${other.issuer}/register/${reg.client_id}`, { headers: auth })).status,
    ).toBe(401);

    const put = await fetch(uri, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: reg.client_id,
        client_name: 'CLI v2',
        redirect_uris: ['http://127.0.0.1:9999/cb2'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({
      client_name: 'CLI v2',
      redirect_uris: ['http://127.0.0.1:9999/cb2'],
    });
    const toConfidential = await fetch(uri, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    expect(toConfidential.status).toBe(400);

    expect((await fetch(uri, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(uri, { headers: auth })).status).toBe(401);
    const gone = await t.http('GET', `/api/v1/tenants/${tf.tenantId}/clients/${reg.client_id}`, {
      key: tf.key,
    });
    expect(gone.status).toBe(404);
  });
});
