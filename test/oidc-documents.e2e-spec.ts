import { newTenant, startTestApp, type TestApp } from './harness.js';

/** Discovery and JWKS are replayed from a per-tenant cache; a change of the tenant refreshes them. */
describe('cached discovery and JWKS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves the same documents again and a new JWKS right after a key rotation', async () => {
    const { tenantId, key } = await newTenant(t, ['signing-keys:write', 'tenants:write']);
    const jwks1 = await t.http('GET', `/${tenantId}/jwks`, { key: null });
    expect(jwks1.status).toBe(200);
    expect(jwks1.headers.get('content-type')).toMatch(/json/);
    const again = await t.http('GET', `/${tenantId}/jwks`, { key: null });
    expect(again.text).toBe(jwks1.text);
    const kids1 = jwks1.body.keys.map((k: { kid: string }) => k.kid);
    expect(kids1).toHaveLength(3);

    const rotated = await t.http('POST', `/api/v1/tenants/${tenantId}/signing-keys/rotate`, {
      key,
      body: { alg: 'ES256' },
    });
    expect(rotated.status).toBeLessThan(300);
    const jwks2 = await t.http('GET', `/${tenantId}/jwks`, { key: null });
    const kids2 = jwks2.body.keys.map((k: { kid: string }) => k.kid);
    expect(kids2).toHaveLength(4);
    expect(kids2).toEqual(expect.arrayContaining(kids1));

    const d1 = await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, { key: null });
    expect(d1.status).toBe(200);
    expect(
      (await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, { key: null })).text,
    ).toBe(d1.text);
    // a query string is never answered from the cache
    expect((await t.http('GET', `/${tenantId}/jwks?x=1`, { key: null })).status).toBe(200);
  });

  it('counts provider requests in the HTTP histogram under a bounded route label', async () => {
    const { tenantId } = await newTenant(t, ['tenants:read']);
    await t.http('GET', `/${tenantId}/jwks`, { key: null });
    await t.http('POST', `/${tenantId}/token`, {
      key: null,
      body: 'grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const metrics = await t.http('GET', '/metrics', { key: null });
    expect(metrics.text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/:tenant_id\/token"[^}]*status="4xx"[^}]*\} [1-9]/,
    );
    expect(metrics.text).not.toContain(tenantId);
  });

  it('forgets a deleted tenant at once', async () => {
    const { tenantId } = await newTenant(t, ['tenants:read']);
    expect(
      (await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, { key: null })).status,
    ).toBe(200);
    expect(
      (await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, { key: null })).status,
    ).toBe(200);
    expect((await t.http('DELETE', `/api/v1/tenants/${tenantId}`)).status).toBe(204);
    expect(
      (await t.http('GET', `/${tenantId}/.well-known/openid-configuration`, { key: null })).status,
    ).toBe(404);
    expect((await t.http('GET', `/${tenantId}/jwks`, { key: null })).status).toBe(404);
  });
});
