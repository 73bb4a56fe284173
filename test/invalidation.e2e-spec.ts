import { TenantEvents, type TenantEvent } from '../libs/tenancy/index.js';
import { InvalidationRelay } from '../src/events/invalidation-relay.js';
import { waitUntil, newTenant, startTestApp, type TestApp } from './harness.js';

/** Two replicas on one database: a change on one reaches the other's caches. */
describe.each([
  ['postgres', {}],
  ['redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
])('cross-replica invalidation over %s', (transport, env) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ env });
    b = await startTestApp({ env });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('uses the expected transport', () => {
    expect(a.app.get(InvalidationRelay).transport).toBe(transport);
  });

  it('delivers a tenant change made on one replica to the other, once, and not back to itself', async () => {
    const seenOnB: TenantEvent[] = [];
    const seenOnA: TenantEvent[] = [];
    const offB = b.app.get(TenantEvents).subscribe((e) => seenOnB.push(e));
    const offA = a.app.get(TenantEvents).subscribe((e) => seenOnA.push(e));
    try {
      const { tenantId, key } = await newTenant(a, ['tenants:write']);
      await a.http('PATCH', `/api/v1/tenants/${tenantId}`, { key, body: { is_2fa: true } });
      await waitUntil(
        'the change to reach replica B',
        () => seenOnB.some((e) => e.tenantId === tenantId),
        { timeoutMs: 3_000, intervalMs: 20 },
      ).catch(() => undefined);
      expect(seenOnB.filter((e) => e.tenantId === tenantId)).toEqual([
        { type: 'changed', tenantId },
      ]);
      expect(seenOnA.filter((e) => e.tenantId === tenantId)).toEqual([
        { type: 'changed', tenantId },
      ]);
    } finally {
      offA();
      offB();
    }
  });

  it('a key of a tenant deleted on one replica stops at once on the other', async () => {
    const { tenantId, key } = await newTenant(a, ['tenants:read']);
    expect((await b.http('GET', `/api/v1/tenants/${tenantId}`, { key })).status).toBe(200);
    expect((await a.http('DELETE', `/api/v1/tenants/${tenantId}`)).status).toBe(204);
    let status = 0;
    await waitUntil(
      'the deletion to reach replica B',
      async () => {
        status = (await b.http('GET', `/api/v1/tenants/${tenantId}`, { key })).status;
        return status === 401;
      },
      { timeoutMs: 3_000, intervalMs: 20 },
    ).catch(() => undefined);
    expect(status).toBe(401);
  });
});
