import { newTenant, startTestApp, type TestApp } from './harness.js';
import { createUser } from './oidc-support.js';

function expectForbidden(r: { status: number; headers: Headers; body: Record<string, unknown> }) {
  expect(r.status).toBe(403);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status: 403, type: expect.any(String) });
}

/**
 * A key is worth the scopes it carries: whoever may change, regenerate or delete it must hold
 * them all, as whoever created it had to. Otherwise a key with only api-keys:write reads a fresh
 * value of a stronger key, or revives one that was revoked.
 */
describe('API keys: no key manages a stronger one', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup() {
    const { tenantId } = await newTenant(t);
    const base = `/api/v1/tenants/${tenantId}/api-keys`;
    const strong = await t.http('POST', base, {
      body: { name: 'admin', scopes: ['users:write', 'clients:write', 'api-keys:write'] },
    });
    expect(strong.status).toBe(201);
    const weak = await t.http('POST', base, { body: { name: 'weak', scopes: ['api-keys:write'] } });
    expect(weak.status).toBe(201);
    return {
      tenantId,
      base,
      strongId: strong.body.key_id as string,
      strongKey: strong.body.api_key as string,
      weakKey: weak.body.api_key as string,
    };
  }

  it('refuses to regenerate a key with more scopes than the caller, and the old value still works', async () => {
    const s = await setup();
    const r = await t.http('POST', `${s.base}/${s.strongId}/regenerate`, { key: s.weakKey });
    expectForbidden(r);
    expect(r.body.api_key).toBeUndefined();
    expect(
      (await t.http('GET', `/api/v1/tenants/${s.tenantId}/users`, { key: s.strongKey })).status,
    ).toBe(200);
  });

  it('refuses to revoke, revive or rename a stronger key', async () => {
    const s = await setup();
    expectForbidden(
      await t.http('PATCH', `${s.base}/${s.strongId}`, {
        key: s.weakKey,
        body: { is_active: false },
      }),
    );
    // Revoked by someone allowed to; the weak key may not bring it back.
    expect(
      (await t.http('PATCH', `${s.base}/${s.strongId}`, { body: { is_active: false } })).status,
    ).toBe(200);
    expectForbidden(
      await t.http('PATCH', `${s.base}/${s.strongId}`, {
        key: s.weakKey,
        body: { is_active: true },
      }),
    );
    expectForbidden(await t.http('POST', `${s.base}/${s.strongId}/regenerate`, { key: s.weakKey }));
    const after = await t.http('GET', `${s.base}/${s.strongId}`);
    expect(after.body).toMatchObject({ is_active: false, name: 'admin' });
  });

  it('refuses to delete a stronger key', async () => {
    const s = await setup();
    expectForbidden(await t.http('DELETE', `${s.base}/${s.strongId}`, { key: s.weakKey }));
    expect((await t.http('GET', `${s.base}/${s.strongId}`)).status).toBe(200);
  });

  it('lets a caller manage keys whose scopes it holds', async () => {
    const s = await setup();
    const peer = await t.http('POST', s.base, {
      key: s.weakKey,
      body: { name: 'peer', scopes: ['api-keys:write'] },
    });
    expect(peer.status).toBe(201);
    const id = peer.body.key_id as string;
    const regen = await t.http('POST', `${s.base}/${id}/regenerate`, { key: s.weakKey });
    expect(regen.status).toBe(200);
    expect(regen.body.api_key).toMatch(/^idp_tn_/);
    expect(
      (await t.http('PATCH', `${s.base}/${id}`, { key: s.weakKey, body: { name: 'p2' } })).status,
    ).toBe(200);
    // The strong key holds api-keys:write and more: it manages the weak one.
    expect((await t.http('DELETE', `${s.base}/${id}`, { key: s.strongKey })).status).toBe(204);
  });

  it('refuses to create a key with scopes the caller lacks, and PATCH cannot add scopes', async () => {
    const s = await setup();
    expectForbidden(
      await t.http('POST', s.base, {
        key: s.weakKey,
        body: { name: 'escalate', scopes: ['users:write'] },
      }),
    );
    const own = await t.http('POST', s.base, {
      key: s.weakKey,
      body: { name: 'own', scopes: ['api-keys:read'] },
    });
    const patched = await t.http('PATCH', `${s.base}/${own.body.key_id}`, {
      key: s.weakKey,
      body: { scopes: ['users:write'] },
    });
    expect(patched.status).toBe(400);
    expect((await t.http('GET', `${s.base}/${own.body.key_id}`)).body.scopes).toEqual([
      'api-keys:read',
    ]);
  });

  it('a user key needs users:write to create or manage', async () => {
    const s = await setup();
    const user = await createUser(t, s.tenantId, { username: 'victim', email: 'v@example.com' });
    expectForbidden(
      await t.http('POST', s.base, {
        key: s.weakKey,
        body: { name: 'as victim', scopes: [], user_id: user.user_id },
      }),
    );
    const made = await t.http('POST', s.base, {
      key: s.strongKey,
      body: { name: 'as victim', scopes: [], user_id: user.user_id },
    });
    expect(made.status).toBe(201);
    expectForbidden(
      await t.http('POST', `${s.base}/${made.body.key_id}/regenerate`, { key: s.weakKey }),
    );
  });

  it('operator routes apply the same rule (an operator key holds every scope)', async () => {
    const op = await t.http('POST', '/api/v1/api-keys', {
      body: { name: 'op2', scopes: ['operator'] },
    });
    expect(op.status).toBe(201);
    const regen = await t.http('POST', `/api/v1/api-keys/${op.body.key_id}/regenerate`);
    expect(regen.status).toBe(200);
    expect((await t.http('DELETE', `/api/v1/api-keys/${op.body.key_id}`)).status).toBe(204);
  });
});
