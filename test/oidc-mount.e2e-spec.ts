import { AuditService } from '../src/audit/audit.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * Provider paths are taken off the HTTP server before Fastify sees them (oidc.mount.ts), so what
 * Fastify did for them is done there: request ids, the client address, 404 for unknown tenants.
 * This app has no TRUST_PROXY: X-Forwarded-For must not change who a caller is.
 */
describe('OIDC mount in front of Fastify', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('echoes a sane X-Request-Id on provider answers (fresh, replayed, errors) and makes one otherwise', async () => {
    const { tenantId } = await newTenant(t);
    const discovery = `/${tenantId}/.well-known/openid-configuration`;
    for (const [method, path] of [
      ['GET', discovery], // built by the provider
      ['GET', discovery], // replayed from the per-tenant copy
      ['POST', `/${tenantId}/token`], // an OAuth error
      ['GET', `/no-such-tenant-${Date.now()}/jwks`], // our 404
    ]) {
      const given = await t.http(method, path, {
        key: null,
        headers: { 'x-request-id': 'trace-oidc-42', ...form },
        body: method === 'POST' ? '' : undefined,
      });
      expect(given.status).not.toBe(500);
      expect(given.headers.get('x-request-id')).toBe('trace-oidc-42');
      const made = await t.http(method, path, {
        key: null,
        headers: { 'x-request-id': 'not sane!', ...form },
        body: method === 'POST' ? '' : undefined,
      });
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const unknown = `/no-such-tenant-${Date.now()}/jwks`;
    const missing = await t.http('GET', unknown, { key: null });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.body).toEqual({
      type: expect.stringMatching(/not-found$/),
      title: 'Not found',
      status: 404,
      detail: 'Tenant not found',
      instance: unknown,
    });
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: the audit records the peer address', async () => {
    const s = await newTenant(t, ['clients:write', 'audit:read']);
    const c = await t.http('POST', `/api/v1/tenants/${s.tenantId}/clients`, {
      key: s.key,
      body: { name: 'Backend', client_type: 'confidential', grant_types: ['client_credentials'] },
    });
    expect(c.status).toBe(201);
    const r = await t.http('POST', `/${s.tenantId}/token`, {
      key: null,
      headers: { ...form, 'x-forwarded-for': '203.0.113.99' },
      body: `grant_type=client_credentials&client_id=${c.body.client_id}&client_secret=wrong`,
    });
    expect(r.status).toBe(401);
    await t.app.get(AuditService).flush();
    const events = await t.http(
      'GET',
      `/api/v1/tenants/${s.tenantId}/audit-events?type=client_auth.failure`,
      { key: s.key },
    );
    expect(events.body.data).toHaveLength(1);
    expect(events.body.data[0].ip).toBe('127.0.0.1');
  });

  it('leaves every other path to Fastify (API, hosted pages, unknown paths)', async () => {
    const { tenantId } = await newTenant(t);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`)).status).toBe(200);
    // A provider-looking word that is not a provider path stays with Nest's 404.
    const other = await t.http('GET', `/${tenantId}/tokens`, { key: null });
    expect(other.status).toBe(404);
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
