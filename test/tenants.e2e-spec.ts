import { newTenant, startTestApp, uniqueTenantId, type TestApp } from './harness.js';

const FULL_SETTINGS = {
  display_name: 'Acme Corp',
  register_enable: true,
  is_2fa: true,
  use_pin: true,
  pin_size: 8,
  use_pattern: true,
  pattern_size: 5,
  use_face_recognition: true,
  use_liveness: true,
  show_pin_when_typing: true,
  block_config: {
    ip: { max_attempts: 7, window_seconds: 120, block_seconds: 600 },
    user: { max_attempts: 3, window_seconds: 60, block_seconds: 300 },
  },
  login_order: ['PATTERN', 'PIN'],
  passkey_enabled: false,
  has_username_and_email: true,
  liveness_config: { provider: 'x', threshold: 0.8, nested: { a: [1, 2] } },
  password_enabled: false,
  magic_link_enabled: true,
  password_min_length: 12,
  access_token_ttl: 900,
  id_token_ttl: 600,
  refresh_token_ttl: 86400,
  session_ttl: 7200,
  logo_url: 'https://cdn.example.com/logo.png',
  primary_color: '#1a2b3c',
  dynamic_registration: {
    enabled: true,
    require_initial_access_token: false,
    redirect_uri_schemes: ['https', 'com.acme.app'],
    grant_types: ['authorization_code'],
    scopes: ['openid'],
    client_types: ['public'],
  },
  entra_eam: {
    enabled: true,
    issuer: 'https://login.microsoftonline.com/tid/v2.0',
    jwks_uri: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
    client_id: 'eam-app',
    accepted_acr: ['possessionorinherence'],
    methods: ['passkey', 'pin_pattern'],
    acr_methods: [{ acr: 'possessionorinherence', methods: ['passkey'] }],
  },
  auth_host: 'auth.example.com:8443',
  stipulations: {
    verified_email: true,
    accepted_terms: true,
    second_factor: true,
    passkey: true,
    password_changed_after_reset: true,
  },
  terms_version: '2026-12',
  terms_url: 'https://example.com/terms',
};

describe('tenants', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates a tenant with every setting and reads each back unchanged', async () => {
    const tenant_id = uniqueTenantId();
    const created = await t.http('POST', '/api/v1/tenants', {
      body: { tenant_id, ...FULL_SETTINGS },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenant_id, ...FULL_SETTINGS });
    const read = await t.http('GET', `/api/v1/tenants/${tenant_id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      tenant_id,
      ...FULL_SETTINGS,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('fills defaults for settings not given', async () => {
    const tenant_id = uniqueTenantId();
    const created = await t.http('POST', '/api/v1/tenants', {
      body: { tenant_id, display_name: 'Defaults' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      pin_size: 6,
      password_enabled: true,
      passkey_enabled: true,
      login_order: [],
      block_config: { ip: { max_attempts: 20 }, user: { max_attempts: 5 } },
      logo_url: null,
    });
  });

  it('refuses a duplicate tenant id with 409 naming the field', async () => {
    const tenant_id = uniqueTenantId();
    expect(
      (await t.http('POST', '/api/v1/tenants', { body: { tenant_id, display_name: 'a' } })).status,
    ).toBe(201);
    const dup = await t.http('POST', '/api/v1/tenants', { body: { tenant_id, display_name: 'b' } });
    expect(dup.status).toBe(409);
    expect(dup.body.errors).toEqual([{ field: 'tenant_id', message: expect.any(String) }]);
  });

  it.each(['API', 'api', 'docs', '-x', 'x-', 'a_b', 'a'.repeat(64), '', 'health', '.well-known'])(
    'rejects tenant id %j with a field error',
    async (tenant_id) => {
      const r = await t.http('POST', '/api/v1/tenants', { body: { tenant_id, display_name: 'x' } });
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain('tenant_id');
    },
  );

  it('lists every bad setting as its own field error', async () => {
    const r = await t.http('POST', '/api/v1/tenants', {
      body: {
        tenant_id: uniqueTenantId(),
        display_name: '',
        pin_size: 3,
        pattern_size: 10,
        is_2fa: 'yes',
        block_config: { ip: { max_attempts: 0 }, user: { window_seconds: 'x' } },
        login_order: ['PIN', 'FACE'],
        logo_url: 'http://insecure.example.com/x.png',
        primary_color: 'blue',
        access_token_ttl: 5,
        surprise: true,
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.type).toBe('urn:idp:problem:validation-error');
    const fields = new Set(r.body.errors.map((e: { field: string }) => e.field));
    for (const f of [
      'display_name',
      'pin_size',
      'pattern_size',
      'is_2fa',
      'block_config.ip.max_attempts',
      'block_config.user.window_seconds',
      'login_order',
      'logo_url',
      'primary_color',
      'access_token_ttl',
      'surprise',
    ]) {
      expect([f, fields.has(f)]).toEqual([f, true]);
    }
  });

  it('PATCH changes only the given fields, block_config per field', async () => {
    const tenant_id = uniqueTenantId();
    await t.http('POST', '/api/v1/tenants', { body: { tenant_id, ...FULL_SETTINGS } });
    const r = await t.http('PATCH', `/api/v1/tenants/${tenant_id}`, {
      body: { pin_size: 10, block_config: { user: { max_attempts: 9 } } },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ...FULL_SETTINGS,
      pin_size: 10,
      block_config: {
        ip: FULL_SETTINGS.block_config.ip,
        user: { ...FULL_SETTINGS.block_config.user, max_attempts: 9 },
      },
    });
    expect(new Date(r.body.updated_at) >= new Date(r.body.created_at)).toBe(true);
  });

  it('PUT replaces the whole tenant: settings not given return to defaults', async () => {
    const tenant_id = uniqueTenantId();
    const created = (
      await t.http('POST', '/api/v1/tenants', { body: { tenant_id, ...FULL_SETTINGS } })
    ).body;
    // a read-modify-write round trip (with read-only fields) is accepted
    const r = await t.http('PUT', `/api/v1/tenants/${tenant_id}`, {
      body: { ...created, display_name: 'Renamed', pin_size: 4, is_2fa: undefined },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      display_name: 'Renamed',
      pin_size: 4,
      is_2fa: false,
      use_pin: true,
    });
    const reset = await t.http('PUT', `/api/v1/tenants/${tenant_id}`, {
      body: { display_name: 'Only name' },
    });
    expect(reset.body).toMatchObject({
      display_name: 'Only name',
      pin_size: 6,
      use_pin: false,
      logo_url: null,
    });
    const moved = await t.http('PUT', `/api/v1/tenants/${tenant_id}`, {
      body: { tenant_id: 'other', display_name: 'x' },
    });
    expect(moved.status).toBe(400);
    expect((await t.http('PUT', `/api/v1/tenants/${tenant_id}`, { body: {} })).status).toBe(400);
  });

  it('lists tenants with pagination and sorting', async () => {
    const ids = [uniqueTenantId('pg'), uniqueTenantId('pg'), uniqueTenantId('pg')];
    for (const tenant_id of ids)
      await t.http('POST', '/api/v1/tenants', { body: { tenant_id, display_name: tenant_id } });
    const first = await t.http(
      'GET',
      '/api/v1/tenants?limit=2&offset=0&sort_by=created_at&sort_direction=-1',
    );
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_next).toBe(true);
    expect(first.body.total_count).toBeGreaterThanOrEqual(3);
    expect(first.body.data.map((x: { tenant_id: string }) => x.tenant_id)).toEqual([
      ids[2],
      ids[1],
    ]);
    const all = await t.http('GET', `/api/v1/tenants?limit=500`);
    expect(all.body.data.length).toBe(Math.min(all.body.total_count, 500));
    for (const q of [
      'limit=0',
      'limit=501',
      'offset=-1',
      'sort_direction=2',
      'sort_by=password',
      'limit=abc',
    ]) {
      const bad = await t.http('GET', `/api/v1/tenants?${q}`);
      expect([q, bad.status]).toEqual([q, 400]);
    }
  });

  it('deletes a tenant with everything it owns', async () => {
    const { tenantId, key } = await newTenant(t, ['tenants:read']);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key })).status).toBe(200);
    for (const username of ['owned1', 'owned2']) {
      const u = await t.http('POST', `/api/v1/tenants/${tenantId}/users`, { body: { username } });
      expect(u.status).toBe(201);
    }
    const g = await t.http('POST', `/api/v1/tenants/${tenantId}/groups`, {
      body: { name: 'owned' },
    });
    expect(g.status).toBe(201);
    const del = await t.http('DELETE', `/api/v1/tenants/${tenantId}`);
    expect(del.status).toBe(204);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`)).status).toBe(404);
    // its keys went with it
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key })).status).toBe(401);
    const ds = t.app.get((await import('typeorm')).DataSource);
    for (const table of ['api_keys', 'users', 'groups', 'tenant_user_counts', 'signing_keys']) {
      const rows = await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [
        tenantId,
      ]);
      expect([table, rows[0].n]).toEqual([table, 0]);
    }
    expect((await t.http('DELETE', `/api/v1/tenants/${tenantId}`)).status).toBe(404);
  });

  it('a tenant key reads and changes its own tenant but cannot create, list or delete tenants', async () => {
    const { tenantId, key } = await newTenant(t, ['tenants:write']);
    expect(
      (await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { key, body: { is_2fa: true } })).body
        .is_2fa,
    ).toBe(true);
    expect((await t.http('GET', '/api/v1/tenants', { key })).status).toBe(403);
    expect(
      (
        await t.http('POST', '/api/v1/tenants', {
          key,
          body: { tenant_id: uniqueTenantId(), display_name: 'x' },
        })
      ).status,
    ).toBe(403);
    expect((await t.http('DELETE', `/api/v1/tenants/${tenantId}`, { key })).status).toBe(403);
  });
});
