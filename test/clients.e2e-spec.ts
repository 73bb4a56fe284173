import { generateKeyPairSync } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ClientsService } from '../src/clients/clients.service.js';
import { SigningKeysService } from '../src/signing-keys/signing-keys.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const CLIENT_SCOPES = ['clients:write'];

const base = (tenantId: string) => `/api/v1/tenants/${tenantId}/clients`;

/** Every settable field with a non-default value, to check each one round-trips. */
function fullClient(overrides: Record<string, unknown> = {}) {
  return {
    client_id: 'web-portal',
    name: 'Web portal',
    client_type: 'confidential',
    redirect_uris: ['https://portal.example.com/cb', 'http://localhost:3000/cb'],
    post_logout_redirect_uris: ['https://portal.example.com/bye'],
    allowed_scopes: [
      'openid',
      'profile',
      'email',
      'offline_access',
      'roles',
      'groups',
      'tenant',
      'api:read',
    ],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
    logo_uri: 'https://portal.example.com/logo.png',
    client_uri: 'https://portal.example.com',
    policy_uri: 'https://portal.example.com/privacy',
    tos_uri: 'https://portal.example.com/tos',
    client_logout_uri: 'https://portal.example.com/logout',
    frontchannel_logout_session_required: true,
    backchannel_logout_uri: 'https://portal.example.com/backchannel-logout',
    backchannel_logout_session_required: true,
    register_enable: true,
    is_lock: true,
    is_group_restricted: true,
    first_party: true,
    op_user_agreement_url: 'https://portal.example.com/agreement',
    dpop_bound_access_tokens: true,
    ...overrides,
  };
}

describe('OIDC clients', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  it('creates a client with every field, and reads, lists, replaces, patches and deletes it', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const body = fullClient();
    const created = await t.http('POST', base(tenantId), { key, body });
    expect(created.status).toBe(201);
    const { client_secret: secret, ...rest } = created.body;
    expect(rest).toEqual({
      ...body,
      jwks: null,
      jwks_uri: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      // The main seed's names for the same settings (seed-fields.ts).
      tenant_id: tenantId,
      sing_alg: body.id_token_signed_response_alg,
      post_logout_redirect_uri: body.post_logout_redirect_uris,
      op_policy_url: body.policy_uri,
      op_tos_url: body.tos_uri,
      frontchannel_logout_uri: body.client_logout_uri,
    });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const got = await t.http('GET', `${base(tenantId)}/web-portal`, { key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(rest);

    const listed = await t.http('GET', base(tenantId), { key });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ has_next: false, total_count: 1 });
    expect(listed.body.data).toEqual([rest]);

    // PUT: what is not named returns to its default; id, type and secret stay
    const replaced = await t.http('PUT', `${base(tenantId)}/web-portal`, {
      key,
      body: { name: 'Portal v2', redirect_uris: ['https://v2.example.com/cb'] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      client_id: 'web-portal',
      client_type: 'confidential',
      name: 'Portal v2',
      redirect_uris: ['https://v2.example.com/cb'],
      post_logout_redirect_uris: [],
      allowed_scopes: ['openid', 'profile', 'email'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      logo_uri: null,
      register_enable: false,
      is_lock: false,
      is_group_restricted: false,
      first_party: false,
    });
    expect(replaced.body.client_secret).toBeUndefined();

    // PATCH: only what is named changes; null clears a nullable field
    const patched = await t.http('PATCH', `${base(tenantId)}/web-portal`, {
      key,
      body: {
        first_party: true,
        logo_uri: 'https://v2.example.com/l.png',
        id_token_signed_response_alg: 'EdDSA',
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Portal v2',
      first_party: true,
      logo_uri: 'https://v2.example.com/l.png',
      id_token_signed_response_alg: 'EdDSA',
      redirect_uris: ['https://v2.example.com/cb'],
    });
    const cleared = await t.http('PATCH', `${base(tenantId)}/web-portal`, {
      key,
      body: { logo_uri: null },
    });
    expect(cleared.body.logo_uri).toBeNull();
    expect((await t.http('GET', `${base(tenantId)}/web-portal`, { key })).body).toEqual(
      cleared.body,
    );

    // the secret survived PUT and PATCH
    const clients = t.app.get(ClientsService);
    expect(await clients.verifySecret(tenantId, 'web-portal', secret)).toBe(true);

    expect((await t.http('DELETE', `${base(tenantId)}/web-portal`, { key })).status).toBe(204);
    expect((await t.http('GET', `${base(tenantId)}/web-portal`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${base(tenantId)}/web-portal`, { key })).status).toBe(404);
    expect(await clients.getProviderMetadata(tenantId, 'web-portal')).toBeUndefined();
  });

  it('generates a client id, and creates public clients without a secret', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const spa = await t.http('POST', base(tenantId), {
      key,
      body: { name: 'SPA', client_type: 'public', redirect_uris: ['https://spa.example.com/cb'] },
    });
    expect(spa.status).toBe(201);
    expect(spa.body.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(spa.body.client_secret).toBeUndefined();
    expect(spa.body.token_endpoint_auth_method).toBe('none');

    const native = await t.http('POST', base(tenantId), {
      key,
      body: {
        name: 'Mobile',
        client_type: 'public',
        redirect_uris: ['com.example.app:/oauth/cb', 'http://127.0.0.1:7777/cb'],
        grant_types: [
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
      },
    });
    expect(native.status).toBe(201);
    const meta = await t.app
      .get(ClientsService)
      .getProviderMetadata(tenantId, native.body.client_id);
    expect(meta).toMatchObject({ application_type: 'native', token_endpoint_auth_method: 'none' });
    expect(meta!.client_secret).toBeUndefined();

    const regen = await t.http('POST', `${base(tenantId)}/${spa.body.client_id}/secret`, { key });
    expect(regen.status).toBe(400);
  });

  it('shows the secret once, regenerates it, and keeps it sealed at rest', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const created = await t.http('POST', base(tenantId), {
      key,
      body: {
        client_id: 'api-backend',
        name: 'Backend',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
      },
    });
    expect(created.status).toBe(201);
    const secret: string = created.body.client_secret;
    expect(secret).toEqual(expect.any(String));

    const listed = await t.http('GET', base(tenantId), { key });
    expect(listed.text).not.toContain(secret);
    expect(listed.body.data.every((c: object) => !('client_secret' in c))).toBe(true);
    const one = await t.http('GET', `${base(tenantId)}/api-backend`, { key });
    expect(one.text).not.toContain(secret);
    expect(one.body.client_secret).toBeUndefined();

    const [row] = await db.query('SELECT * FROM clients WHERE tenant_id = $1 AND client_id = $2', [
      tenantId,
      'api-backend',
    ]);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.secret_sealed).toMatch(/^v1\./);

    const clients = t.app.get(ClientsService);
    const meta = await clients.getProviderMetadata(tenantId, 'api-backend');
    expect(meta).toMatchObject({
      client_id: 'api-backend',
      client_secret: secret,
      client_name: 'Backend',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      scope: 'openid profile email',
      client_type: 'confidential',
      is_lock: false,
      first_party: false,
    });

    const regen = await t.http('POST', `${base(tenantId)}/api-backend/secret`, { key });
    expect(regen.status).toBe(200);
    expect(regen.body.client_id).toBe('api-backend');
    expect(regen.body.client_secret).toEqual(expect.any(String));
    expect(regen.body.client_secret).not.toBe(secret);
    // the provider sees the new secret at once (the cache was invalidated), the old one fails
    expect(await clients.verifySecret(tenantId, 'api-backend', regen.body.client_secret)).toBe(
      true,
    );
    expect(await clients.verifySecret(tenantId, 'api-backend', secret)).toBe(false);
    const [after] = await db.query(
      'SELECT * FROM clients WHERE tenant_id = $1 AND client_id = $2',
      [tenantId, 'api-backend'],
    );
    expect(JSON.stringify(after)).not.toContain(regen.body.client_secret);
    expect(after.secret_sealed).not.toBe(row.secret_sealed);

    // a sealed secret copied to another client's row does not open there (AAD binds the owner)
    await t.http('POST', base(tenantId), {
      key,
      body: {
        client_id: 'copycat',
        name: 'Copy',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
      },
    });
    await db.query(
      'UPDATE clients SET secret_sealed = $1 WHERE tenant_id = $2 AND client_id = $3',
      [after.secret_sealed, tenantId, 'copycat'],
    );
    await expect(clients.getProviderMetadata(tenantId, 'copycat')).rejects.toThrow();
  });

  it('answers 409 naming client_id for a duplicate, also across concurrent creates', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const body = {
      client_id: 'dup',
      name: 'One',
      client_type: 'public',
      redirect_uris: ['https://a.example.com/cb'],
    };
    expect((await t.http('POST', base(tenantId), { key, body })).status).toBe(201);
    const again = await t.http('POST', base(tenantId), { key, body: { ...body, name: 'Two' } });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].field).toBe('client_id');
    expect((await t.http('GET', `${base(tenantId)}/dup`, { key })).body.name).toBe('One');

    const racing = await Promise.all(
      [1, 2, 3].map(() =>
        t.http('POST', base(tenantId), { key, body: { ...body, client_id: 'race' } }),
      ),
    );
    expect(racing.map((r) => r.status).toSorted()).toEqual([201, 409, 409]);

    // the same client id in another tenant is a different client
    const other = await newTenant(t, CLIENT_SCOPES);
    expect((await t.http('POST', base(other.tenantId), { key: other.key, body })).status).toBe(201);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a relative redirect URI', { redirect_uris: ['/cb'] }, 'redirect_uris[0]'],
    ['a fragment', { redirect_uris: ['https://a.example.com/cb#x'] }, 'redirect_uris[0]'],
    ['plain http off loopback', { redirect_uris: ['http://a.example.com/cb'] }, 'redirect_uris[0]'],
    [
      'a custom scheme on a confidential client',
      { redirect_uris: ['com.example.app:/cb'] },
      'redirect_uris[0]',
    ],
    [
      'a bad post-logout URI',
      { post_logout_redirect_uris: ['https://a.example.com/x#y'] },
      'post_logout_redirect_uris[0]',
    ],
    [
      'none on a confidential client',
      { token_endpoint_auth_method: 'none' },
      'token_endpoint_auth_method',
    ],
    ['private_key_jwt without keys', { token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
    ['a private key in jwks', { jwks: 'PRIVATE' }, 'jwks.keys[0]'],
    ['a malformed jwks', { jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'y' }] } }, 'jwks.keys[0]'],
    ['an unknown scope shape', { allowed_scopes: ['openid', 'Not A Scope'] }, 'allowed_scopes[1]'],
    ['an unknown grant type', { grant_types: ['password'] }, 'grant_types'],
    [
      'an unknown auth method',
      { token_endpoint_auth_method: 'client_secret_jwt' },
      'token_endpoint_auth_method',
    ],
    [
      'an unknown id token alg',
      { id_token_signed_response_alg: 'HS256' },
      'id_token_signed_response_alg',
    ],
    ['authorization_code without redirect URIs', { redirect_uris: [] }, 'redirect_uris'],
    ['an http logo', { logo_uri: 'http://cdn.example.com/logo.png' }, 'logo_uri'],
    ['a non-URL tos', { tos_uri: 'terms' }, 'tos_uri'],
    ['a bad client id', { client_id: '../etc' }, 'client_id'],
    ['an empty name', { name: '' }, 'name'],
    ['a null name', { name: null }, 'name'],
    ['a string for an array', { redirect_uris: 'https://a.example.com/cb' }, 'redirect_uris'],
    ['a number for a boolean', { first_party: 1 }, 'first_party'],
    ['an unknown field', { client_secret: 'chosen-by-me' }, 'client_secret'],
  ])('refuses %s with a field error', async (_what, override, field) => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    if (override.jwks === 'PRIVATE') {
      override = {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: {
          keys: [
            generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
          ],
        },
      };
    }
    const body = {
      name: 'App',
      client_type: 'confidential',
      redirect_uris: ['https://a.example.com/cb'],
      ...override,
    };
    const r = await t.http('POST', base(tenantId), { key, body });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect((await t.http('GET', base(tenantId), { key })).body.total_count).toBe(0);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a token auth method',
      { token_endpoint_auth_method: 'client_secret_basic' },
      'token_endpoint_auth_method',
    ],
    [
      'client_credentials',
      { grant_types: ['authorization_code', 'client_credentials'] },
      'grant_types',
    ],
  ])('refuses a public client with %s', async (_what, override, field) => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const r = await t.http('POST', base(tenantId), {
      key,
      body: {
        name: 'SPA',
        client_type: 'public',
        redirect_uris: ['https://a.example.com/cb'],
        ...override,
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
  });

  it('accepts private_key_jwt with public keys and hands them to the provider', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    const r = await t.http('POST', base(tenantId), {
      key,
      body: {
        client_id: 'jwt-client',
        name: 'JWT',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...jwk, kid: 'k1' }] },
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.jwks).toEqual({ keys: [{ ...jwk, kid: 'k1' }] });
    const meta = await t.app.get(ClientsService).getProviderMetadata(tenantId, 'jwt-client');
    expect(meta).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kid: 'k1' }] },
    });
  });

  it('judges PUT and PATCH on the merged result, and keeps id and type', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    await t.http('POST', base(tenantId), {
      key,
      body: {
        client_id: 'spa',
        name: 'SPA',
        client_type: 'public',
        redirect_uris: ['https://a.example.com/cb'],
      },
    });
    const path = `${base(tenantId)}/spa`;
    const badPatch = await t.http('PATCH', path, {
      key,
      body: { grant_types: ['client_credentials'] },
    });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.errors.map((e: { field: string }) => e.field)).toEqual(['grant_types']);
    const clearUris = await t.http('PATCH', path, { key, body: { redirect_uris: [] } });
    expect(clearUris.status).toBe(400);
    expect(clearUris.body.errors[0].field).toBe('redirect_uris');
    const typeChange = await t.http('PATCH', path, { key, body: { client_type: 'confidential' } });
    expect(typeChange.status).toBe(400);
    expect(typeChange.body.errors[0].field).toBe('client_type');
    const idChange = await t.http('PUT', path, {
      key,
      body: { client_id: 'other', name: 'x', redirect_uris: ['https://a.example.com/cb'] },
    });
    expect(idChange.status).toBe(400);
    expect(idChange.body.errors[0].field).toBe('client_id');
    const noName = await t.http('PUT', path, {
      key,
      body: { redirect_uris: ['https://a.example.com/cb'] },
    });
    expect(noName.status).toBe(400);
    expect(noName.body.errors[0].field).toBe('name');
    const nullArray = await t.http('PATCH', path, { key, body: { redirect_uris: null } });
    expect(nullArray.status).toBe(400);
    // nothing above changed the client
    const now = await t.http('GET', path, { key });
    expect(now.body).toMatchObject({
      client_type: 'public',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://a.example.com/cb'],
    });
    // a PUT of a public client keeps none as its method by default
    const put = await t.http('PUT', path, {
      key,
      body: { name: 'SPA 2', redirect_uris: ['http://[::1]:9000/cb'] },
    });
    expect(put.status).toBe(200);
    expect(put.body.token_endpoint_auth_method).toBe('none');
  });

  it('never answers 500 to malformed input', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const probes: Array<[string, string, unknown]> = [
      ['POST', base(tenantId), '{not json'],
      ['POST', base(tenantId), []],
      ['POST', base(tenantId), 'null'],
      ['POST', base(tenantId), { name: 'x', client_type: 'weird' }],
      ['POST', base(tenantId), { name: 'x', client_type: 'public', redirect_uris: [{}] }],
      ['POST', base(tenantId), { name: 'x', client_type: 'confidential', jwks: [] }],
      [
        'POST',
        base(tenantId),
        {
          name: 'x',
          client_type: 'confidential',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: 'x' },
        },
      ],
      ['POST', base(tenantId), { name: 'x'.repeat(5000), client_type: 'public' }],
      [
        'POST',
        base(tenantId),
        { name: 'x\u0000y', client_type: 'public', redirect_uris: ['https://a.example.com/cb'] },
      ],
      ['GET', `${base(tenantId)}/${'%00'}`, undefined],
      ['GET', `${base(tenantId)}/${'x'.repeat(300)}`, undefined],
      ['GET', `${base(tenantId)}?limit=abc`, undefined],
      ['GET', `${base(tenantId)}?sort_by=secret_sealed`, undefined],
      ['PATCH', `${base(tenantId)}/nope`, { name: 'x' }],
      ['POST', `${base(tenantId)}/nope/secret`, undefined],
    ];
    for (const [method, path, body] of probes) {
      const r = await t.http(method, path, { key, body });
      expect([method, path.slice(0, 80), r.status < 500]).toEqual([
        method,
        path.slice(0, 80),
        true,
      ]);
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('keeps a tenant key inside its tenant and enforces scopes', async () => {
    const a = await newTenant(t, CLIENT_SCOPES);
    const b = await newTenant(t, CLIENT_SCOPES);
    const bBody = {
      client_id: 'b-app',
      name: 'B',
      client_type: 'confidential',
      grant_types: ['client_credentials'],
    };
    expect((await t.http('POST', base(b.tenantId), { key: b.key, body: bBody })).status).toBe(201);
    const probes: Array<[string, string, unknown?]> = [
      ['GET', base(b.tenantId)],
      ['POST', base(b.tenantId), { ...bBody, client_id: 'evil' }],
      ['GET', `${base(b.tenantId)}/b-app`],
      ['PUT', `${base(b.tenantId)}/b-app`, { name: 'pwned', grant_types: ['client_credentials'] }],
      ['PATCH', `${base(b.tenantId)}/b-app`, { name: 'pwned' }],
      ['DELETE', `${base(b.tenantId)}/b-app`],
      ['POST', `${base(b.tenantId)}/b-app/secret`],
    ];
    for (const [method, path, body] of probes) {
      const r = await t.http(method, path, { key: a.key, body });
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    // B's client through A's own path is not found either
    expect((await t.http('GET', `${base(a.tenantId)}/b-app`, { key: a.key })).status).toBe(404);
    expect((await t.http('GET', `${base(b.tenantId)}/b-app`, { key: b.key })).body.name).toBe('B');

    const reader = await newTenant(t, ['clients:read']);
    await t.http('POST', base(reader.tenantId), { body: { ...bBody, client_id: 'r-app' } });
    expect((await t.http('GET', base(reader.tenantId), { key: reader.key })).status).toBe(200);
    expect(
      (await t.http('GET', `${base(reader.tenantId)}/r-app`, { key: reader.key })).status,
    ).toBe(200);
    for (const [method, path, body] of [
      ['POST', base(reader.tenantId), { ...bBody, client_id: 'x' }],
      ['PATCH', `${base(reader.tenantId)}/r-app`, { name: 'x' }],
      ['PUT', `${base(reader.tenantId)}/r-app`, { name: 'x', grant_types: ['client_credentials'] }],
      ['DELETE', `${base(reader.tenantId)}/r-app`, undefined],
      ['POST', `${base(reader.tenantId)}/r-app/secret`, undefined],
    ] as Array<[string, string, unknown]>) {
      const r = await t.http(method, path, { key: reader.key, body });
      expect([method, path, r.status]).toEqual([method, path, 403]);
    }
    const other = await newTenant(t, ['users:write']);
    expect((await t.http('GET', base(other.tenantId), { key: other.key })).status).toBe(403);
    expect((await t.http('GET', base(other.tenantId), { key: null })).status).toBe(401);
  });

  it('serves the login page display info publicly, with 404 for unknown tenant or client', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    await t.http('POST', base(tenantId), { key, body: fullClient() });
    const r = await t.http('GET', `${base(tenantId)}/web-portal/display`, { key: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      client_id: 'web-portal',
      name: 'Web portal',
      logo_uri: 'https://portal.example.com/logo.png',
      client_uri: 'https://portal.example.com',
      policy_uri: 'https://portal.example.com/privacy',
      tos_uri: 'https://portal.example.com/tos',
      register_enable: true,
      tenant_display_name: `Tenant ${tenantId}`,
    });
    expect(r.text).not.toMatch(/secret|redirect_uris|is_lock/);
    expect((await t.http('GET', `${base(tenantId)}/nope/display`, { key: null })).status).toBe(404);
    expect(
      (await t.http('GET', `${base('no-such-tenant-here')}/web-portal/display`, { key: null }))
        .status,
    ).toBe(404);
    expect(
      (await t.http('GET', `${base('NOT_A_TENANT')}/web-portal/display`, { key: null })).status,
    ).toBe(404);
    expect(
      (await t.http('GET', `${base('x'.repeat(100))}/web-portal/display`, { key: null })).status,
    ).toBe(404);
  });

  it('provider metadata follows changes at once and is one read-only object until then', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    await t.http('POST', base(tenantId), { key, body: fullClient() });
    const clients = t.app.get(ClientsService);
    const first = await clients.getProviderMetadata(tenantId, 'web-portal');
    expect(first).toMatchObject({
      client_name: 'Web portal',
      application_type: 'web',
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
      post_logout_redirect_uris: ['https://portal.example.com/bye'],
      scope: 'openid profile email offline_access roles groups tenant api:read',
      logo_uri: 'https://portal.example.com/logo.png',
      client_uri: 'https://portal.example.com',
      policy_uri: 'https://portal.example.com/privacy',
      tos_uri: 'https://portal.example.com/tos',
      client_type: 'confidential',
      is_lock: true,
      is_group_restricted: true,
      first_party: true,
      register_enable: true,
    });
    // Shared and read-only: no reader can change what the next one sees.
    expect(() => (first!.grant_types as string[]).push('implicit')).toThrow(TypeError);
    expect(() => Object.assign(first!, { is_lock: false })).toThrow(TypeError);
    const again = await clients.getProviderMetadata(tenantId, 'web-portal');
    expect(again).toBe(first);
    expect(again!.grant_types).toHaveLength(3);

    await t.http('PATCH', `${base(tenantId)}/web-portal`, {
      key,
      body: { is_lock: false, name: 'Renamed' },
    });
    const changed = await clients.getProviderMetadata(tenantId, 'web-portal');
    expect(changed).not.toBe(first);
    expect(changed).toMatchObject({ is_lock: false, client_name: 'Renamed' });
    // an unknown client, then created: the brief negative entry is dropped on change
    expect(await clients.getProviderMetadata(tenantId, 'later')).toBeUndefined();
    await t.http('POST', base(tenantId), { key, body: { ...fullClient(), client_id: 'later' } });
    expect(await clients.getProviderMetadata(tenantId, 'later')).toMatchObject({
      client_id: 'later',
    });
    // other tenants never see it
    const other = await newTenant(t, CLIENT_SCOPES);
    expect(await clients.getProviderMetadata(other.tenantId, 'later')).toBeUndefined();
  });

  it('answers metadata that oidc-provider accepts, for every client shape', async () => {
    const { default: Provider } = await import('oidc-provider');
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    const bodies = [
      fullClient(),
      {
        ...fullClient(),
        client_id: 'spa',
        client_type: 'public',
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'EdDSA',
      },
      {
        client_id: 'native',
        name: 'N',
        client_type: 'public',
        redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'],
        post_logout_redirect_uris: ['com.example.app:/bye'],
      },
      {
        client_id: 'tv',
        name: 'TV',
        client_type: 'public',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      },
      {
        client_id: 'jwt',
        name: 'J',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      },
      {
        client_id: 'jwks-uri',
        name: 'U',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://a.example.com/jwks',
      },
    ];
    const clients = t.app.get(ClientsService);
    for (const body of bodies) {
      const r = await t.http('POST', base(tenantId), { key, body });
      expect([body.client_id, r.status]).toEqual([body.client_id, 201]);
    }
    expect(await clients.scopesInUse(tenantId)).toEqual([
      'api:read',
      'email',
      'groups',
      'offline_access',
      'openid',
      'profile',
      'roles',
      'tenant',
    ]);
    const provider = new Provider(`http://localhost/${tenantId}`, {
      // The Client model read through an adapter, as the provider serves it from the clients table.
      adapter: class {
        constructor(private readonly model: string) {}
        find(id: string) {
          return this.model === 'Client' ? clients.getProviderMetadata(tenantId, id) : undefined;
        }
      } as never,
      jwks: (await t.app.get(SigningKeysService).providerJwks(tenantId)) as never,
      scopes: await clients.scopesInUse(tenantId),
      extraClientMetadata: {
        properties: [
          'client_type',
          'is_lock',
          'is_group_restricted',
          'first_party',
          'register_enable',
        ],
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
        rpInitiatedLogout: { enabled: true },
      },
      enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
    });
    for (const body of bodies) {
      const client = await provider.Client.find(body.client_id).catch(
        (e: { error_description?: string }) => {
          throw new Error(`${body.client_id}: ${e.error_description}`);
        },
      );
      expect([body.client_id, client?.clientId]).toEqual([body.client_id, body.client_id]);
    }
    const web = await provider.Client.find('web-portal');
    expect(web!.redirectUriAllowed('https://portal.example.com/cb')).toBe(true);
    expect(web!.redirectUriAllowed('https://portal.example.com/cb/other')).toBe(false);
    expect((web as unknown as Record<string, unknown>).first_party).toBe(true);
  });

  it('lists with pagination and sorting', async () => {
    const { tenantId, key } = await newTenant(t, CLIENT_SCOPES);
    for (const id of ['c', 'a', 'b']) {
      await t.http('POST', base(tenantId), {
        key,
        body: {
          client_id: id,
          name: `n-${id}`,
          client_type: 'public',
          redirect_uris: ['https://a.example.com/cb'],
        },
      });
    }
    const p1 = await t.http('GET', `${base(tenantId)}?limit=2&sort_by=client_id&sort_direction=1`, {
      key,
    });
    expect(p1.body.data.map((c: { client_id: string }) => c.client_id)).toEqual(['a', 'b']);
    expect(p1.body).toMatchObject({ has_next: true, total_count: 3 });
    const p2 = await t.http(
      'GET',
      `${base(tenantId)}?limit=2&offset=2&sort_by=client_id&sort_direction=1`,
      { key },
    );
    expect(p2.body.data.map((c: { client_id: string }) => c.client_id)).toEqual(['c']);
    expect(p2.body.has_next).toBe(false);
    const desc = await t.http('GET', `${base(tenantId)}?sort_by=name&sort_direction=-1`, { key });
    expect(desc.body.data.map((c: { name: string }) => c.name)).toEqual(['n-c', 'n-b', 'n-a']);
  });
});
