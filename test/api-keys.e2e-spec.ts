import { newTenant, startTestApp, type TestApp } from './harness.js';

describe('API keys and authorization', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('lists every scope with a description, without a credential', async () => {
    const r = await t.http('GET', '/api/v1/api-keys/scopes', { key: null });
    expect(r.status).toBe(200);
    const scopes = r.body.map((s: { scope: string }) => s.scope);
    for (const s of [
      'tenants:read',
      'users:write',
      'signing-keys:write',
      'scim',
      'operator',
      'audit:read',
      'blocker:write',
    ]) {
      expect(scopes).toContain(s);
    }
    for (const s of r.body) expect(s.description.length).toBeGreaterThan(5);
  });

  it('shows a key once, stores only its hash, and accepts it in both headers', async () => {
    const { tenantId } = await newTenant(t);
    const created = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'ci', scopes: ['tenants:read'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      key_id: expect.any(String),
      name: 'ci',
      scopes: ['tenants:read'],
      tenant_id: tenantId,
      user_id: null,
      is_active: true,
      last_use_at: null,
      last_used_at: null,
      api_key: expect.stringMatching(/^idp_tn_[A-Za-z0-9_-]{43}$/),
    });
    const key: string = created.body.api_key;
    const listed = await t.http('GET', `/api/v1/tenants/${tenantId}/api-keys`);
    expect(listed.text).not.toContain(key);
    expect(listed.body.data.every((k: Record<string, unknown>) => !('api_key' in k))).toBe(true);
    const one = await t.http('GET', `/api/v1/tenants/${tenantId}/api-keys/${created.body.key_id}`);
    expect(one.body.api_key).toBeUndefined();
    const db = t.app.get((await import('typeorm')).DataSource);
    const [row] = await db.query('SELECT key_hash FROM api_keys WHERE key_id = $1', [
      created.body.key_id,
    ]);
    expect(row.key_hash).not.toContain(key);
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);

    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key })).status).toBe(200);
    const bearer = await t.http('GET', `/api/v1/tenants/${tenantId}`, {
      key: null,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bearer.status).toBe(200);
    const used = await t.http('GET', `/api/v1/tenants/${tenantId}/api-keys/${created.body.key_id}`);
    expect(used.body.last_used_at).toEqual(expect.any(String));
  });

  it('refuses missing, malformed and unknown credentials with 401', async () => {
    const { tenantId } = await newTenant(t);
    const none = await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(
      (await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: 'idp_tn_nope' })).status,
    ).toBe(401);
    expect(
      (
        await t.http('GET', `/api/v1/tenants/${tenantId}`, {
          key: null,
          headers: { authorization: 'Basic abc' },
        })
      ).status,
    ).toBe(401);
    expect(
      (await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: 'x'.repeat(5000) })).status,
    ).toBe(401);
  });

  it('enforces scopes with 403 and lets write imply read', async () => {
    const { tenantId, key } = await newTenant(t, ['api-keys:read']);
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}`, { key });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('tenants:read');
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/api-keys`, { key })).status).toBe(200);
    expect(
      (
        await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
          key,
          body: { name: 'x', scopes: [] },
        })
      ).status,
    ).toBe(403);
    const writer = await newTenant(t, ['tenants:write']);
    expect(
      (await t.http('GET', `/api/v1/tenants/${writer.tenantId}`, { key: writer.key })).status,
    ).toBe(200);
  });

  it('keeps a tenant key inside its tenant: 404 for every route of another tenant', async () => {
    const a = await newTenant(t, ['tenants:write', 'api-keys:write']);
    const b = await newTenant(t, ['tenants:write', 'api-keys:write']);
    const bKeys = await t.http('GET', `/api/v1/tenants/${b.tenantId}/api-keys`);
    const bKeyId = bKeys.body.data[0].key_id;
    const probes: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/tenants/${b.tenantId}`],
      ['PATCH', `/api/v1/tenants/${b.tenantId}`, { is_2fa: true }],
      ['PUT', `/api/v1/tenants/${b.tenantId}`, { display_name: 'pwned' }],
      ['GET', `/api/v1/tenants/${b.tenantId}/api-keys`],
      ['POST', `/api/v1/tenants/${b.tenantId}/api-keys`, { name: 'x', scopes: ['tenants:read'] }],
      ['GET', `/api/v1/tenants/${b.tenantId}/api-keys/${bKeyId}`],
      ['DELETE', `/api/v1/tenants/${b.tenantId}/api-keys/${bKeyId}`],
      ['POST', `/api/v1/tenants/${b.tenantId}/api-keys/${bKeyId}/regenerate`],
      ['GET', `/api/v1/tenants/no-such-tenant-at-all`],
    ];
    for (const [method, path, body] of probes) {
      const r = await t.http(method, path, { key: a.key, body });
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    // B's key id through A's own tenant path is not found either
    expect(
      (await t.http('GET', `/api/v1/tenants/${a.tenantId}/api-keys/${bKeyId}`, { key: a.key }))
        .status,
    ).toBe(404);
    expect((await t.http('GET', `/api/v1/tenants/${b.tenantId}`)).body.display_name).not.toBe(
      'pwned',
    );
    expect((await t.http('GET', `/api/v1/tenants/${b.tenantId}`, { key: b.key })).status).toBe(200);
  });

  it('refuses a revoked, deleted or regenerated key', async () => {
    const { tenantId } = await newTenant(t);
    const mk = async () =>
      (
        await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
          body: { name: 'k', scopes: ['tenants:read'] },
        })
      ).body;
    const k1 = await mk();
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k1.api_key })).status).toBe(
      200,
    );
    const off = await t.http('PATCH', `/api/v1/tenants/${tenantId}/api-keys/${k1.key_id}`, {
      body: { is_active: false },
    });
    expect(off.body.is_active).toBe(false);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k1.api_key })).status).toBe(
      401,
    );

    const k2 = await mk();
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k2.api_key })).status).toBe(
      200,
    );
    expect(
      (await t.http('DELETE', `/api/v1/tenants/${tenantId}/api-keys/${k2.key_id}`)).status,
    ).toBe(204);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k2.api_key })).status).toBe(
      401,
    );
    expect(
      (await t.http('DELETE', `/api/v1/tenants/${tenantId}/api-keys/${k2.key_id}`)).status,
    ).toBe(404);

    const k3 = await mk();
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k3.api_key })).status).toBe(
      200,
    );
    const regen = await t.http(
      'POST',
      `/api/v1/tenants/${tenantId}/api-keys/${k3.key_id}/regenerate`,
    );
    expect(regen.status).toBe(200);
    expect(regen.body.key_id).toBe(k3.key_id);
    expect(regen.body.api_key).not.toBe(k3.api_key);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: k3.api_key })).status).toBe(
      401,
    );
    expect(
      (await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: regen.body.api_key })).status,
    ).toBe(200);
  });

  it('never lets a key grant more than it holds, nor a tenant key the operator scope', async () => {
    const { tenantId, key } = await newTenant(t, ['api-keys:write', 'tenants:read']);
    const ok = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      key,
      body: { name: 'narrow', scopes: ['tenants:read'] },
    });
    expect(ok.status).toBe(201);
    const wider = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      key,
      body: { name: 'wide', scopes: ['users:write'] },
    });
    expect(wider.status).toBe(403);
    const op = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'op', scopes: ['operator'] },
    });
    expect(op.status).toBe(400);
    const unknown = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'x', scopes: ['root'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('scopes');
  });

  it('validates key bodies and ids', async () => {
    const { tenantId } = await newTenant(t);
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: '', scopes: 'tenants:read' },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field).toSorted()).toEqual(
      expect.arrayContaining(['name', 'scopes']),
    );
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/api-keys/not-a-uuid`)).status).toBe(
      400,
    );
    const user = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'u', scopes: [], user_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(user.status).toBe(400);
    expect(user.body.errors[0].field).toBe('user_id');
  });

  it('operator keys: created, listed, usable everywhere, and out of reach of tenant keys', async () => {
    const created = await t.http('POST', '/api/v1/api-keys', {
      body: { name: 'second operator', scopes: ['operator'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.api_key).toMatch(/^idp_op_/);
    expect(created.body.tenant_id).toBeNull();
    const op2 = created.body.api_key;
    expect((await t.http('GET', '/api/v1/tenants', { key: op2 })).status).toBe(200);
    const listed = await t.http('GET', '/api/v1/api-keys?limit=500');
    expect(listed.body.data.map((k: { key_id: string }) => k.key_id)).toContain(
      created.body.key_id,
    );

    // an operator key limited to reading tenants, across tenants
    const reader = (
      await t.http('POST', '/api/v1/api-keys', {
        body: { name: 'reader', scopes: ['tenants:read'] },
      })
    ).body.api_key;
    const { tenantId, key } = await newTenant(t, ['api-keys:write', 'tenants:write']);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`, { key: reader })).status).toBe(200);
    expect(
      (
        await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
          key: reader,
          body: { is_2fa: true },
        })
      ).status,
    ).toBe(403);

    expect((await t.http('GET', '/api/v1/api-keys', { key })).status).toBe(403);
    expect(
      (await t.http('POST', '/api/v1/api-keys', { key, body: { name: 'x', scopes: ['operator'] } }))
        .status,
    ).toBe(403);
    expect((await t.http('DELETE', `/api/v1/api-keys/${created.body.key_id}`)).status).toBe(204);
    expect((await t.http('GET', '/api/v1/tenants', { key: op2 })).status).toBe(401);
  });
});
