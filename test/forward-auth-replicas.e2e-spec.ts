import { randomBytes } from 'node:crypto';
import { tenant, user } from './fixtures.js';
import { forwardSignIn, traefikHeaders } from './forward-auth-support.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';

const checkOn = async (t: TestApp, tenantId: string, url: string, cookie?: string) =>
  (
    await fetch(`${t.baseUrl}/${tenantId}/forward-auth`, {
      headers: traefikHeaders(url, cookie ? { cookie: `idp_forward_auth=${cookie}` } : {}),
    })
  ).status;

/**
 * Two replicas on one database: a forward-auth session revoked on one is refused by the other
 * (which holds the cookie check in memory), and app changes reach the other's index: over the
 * database poll alone, and with Redis pub/sub.
 */
describe.each([
  ['the database poll', {}],
  ['Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
])('forward-auth across replicas over %s', (_transport, env: Record<string, string>) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const shared = { ...env, IDP_MASTER_KEY: randomBytes(32).toString('hex') };
    a = await startTestApp({ env: shared });
    b = await startTestApp({ env: shared });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('a revocation on one replica refuses the cookie on the other; an app added on one is protected on the other', async () => {
    const { tenantId } = await tenant(a, { prefix: 'farep' });
    const alice = await user(a, tenantId, { username: 'alice' });
    await a.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
      body: { name: 'Replicated', hosts: ['rep.example.com'] },
    });
    const url = 'http://rep.example.com/';
    const { cookie } = await forwardSignIn(a, tenantId, url, 'alice');
    expect(await checkOn(b, tenantId, url, cookie)).toBe(200);
    // B now holds the tenant's app index: a new app made on A must reach it.
    expect(await checkOn(b, tenantId, 'http://late.example.com/')).toBe(403);
    await a.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
      body: { name: 'Late', hosts: ['late.example.com'] },
    });
    let late = 0;
    await waitUntil(
      'the new app to reach replica B',
      async () => (late = await checkOn(b, tenantId, 'http://late.example.com/')) === 401,
      { timeoutMs: 10_000, intervalMs: 50 },
    ).catch(() => undefined);
    expect(late).toBe(401);

    const revoked = await a.http(
      'DELETE',
      `/api/v1/tenants/${tenantId}/users/${alice.user_id}/sessions`,
    );
    expect(revoked.status).toBe(200);
    expect(await checkOn(a, tenantId, url, cookie)).toBe(401);
    let onB = 0;
    await waitUntil(
      'the revocation to reach replica B',
      async () => (onB = await checkOn(b, tenantId, url, cookie)) === 401,
      { timeoutMs: 10_000, intervalMs: 50 },
    ).catch(() => undefined);
    expect(onB).toBe(401);
  });
});
