import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { BlockerService } from '../src/blocker/blocker.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Two server processes' worth of state: two apps sharing one PostgreSQL and one Redis. */
describe('brute-force blocker across replicas (Redis)', () => {
  const prefix = `idp-test-${randomBytes(6).toString('hex')}:`;
  const redisUrl = `${REDIS}?keyPrefix=${encodeURIComponent(prefix)}`;
  let a: TestApp;
  let b: TestApp;
  let inspect: Redis;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startTestApp({ env: { REDIS_URL: redisUrl } }),
      startTestApp({ env: { REDIS_URL: redisUrl } }),
    ]);
    inspect = new Redis(REDIS);
  });
  afterAll(async () => {
    const keys = await inspect.keys(`${prefix}*`);
    if (keys.length) await inspect.del(...keys);
    inspect.disconnect();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('failures counted on one replica block on the other, and an unblock on either lifts it everywhere', async () => {
    const { tenantId, key } = await newTenant(a, ['blocker:write'], {
      block_config: {
        ip: { max_attempts: 4, window_seconds: 300, block_seconds: 600 },
        user: { max_attempts: 100, window_seconds: 300, block_seconds: 600 },
      },
    });
    const onA = a.app.get(BlockerService);
    const onB = b.app.get(BlockerService);
    // Alternate replicas, as a load balancer would.
    await onA.recordFailure(tenantId, { ip: '198.51.100.20', username: 'u1' });
    await onB.recordFailure(tenantId, { ip: '198.51.100.20', username: 'u2' });
    await onA.recordFailure(tenantId, { ip: '198.51.100.20', username: 'u3' });
    expect((await onB.check(tenantId, { ip: '198.51.100.20' })).blocked).toBe(false);
    await onB.recordFailure(tenantId, { ip: '198.51.100.20', username: 'u4' });
    for (const blocker of [onA, onB]) {
      const check = await blocker.check(tenantId, { ip: '198.51.100.20', username: 'u5' });
      expect(check).toMatchObject({ blocked: true, kind: 'ip' });
      expect(check.retryAfterSeconds).toBeGreaterThan(590);
    }
    expect((await onA.check(tenantId, { ip: '198.51.100.21' })).blocked).toBe(false);
    // The counters live in Redis under the configured prefix, not in either process.
    expect((await inspect.keys(`${prefix}blocker:block:${tenantId}:ip:*`)).length).toBe(1);

    const listed = await b.http('GET', `/api/v1/tenants/${tenantId}/blocked-ips`, { key });
    expect(listed.body.data.map((x: { ip: string }) => x.ip)).toEqual(['198.51.100.20']);
    expect(
      (await b.http('DELETE', `/api/v1/tenants/${tenantId}/blocked-ips/198.51.100.20`, { key }))
        .status,
    ).toBe(204);
    expect((await onA.check(tenantId, { ip: '198.51.100.20' })).blocked).toBe(false);
    expect(
      (await a.http('GET', `/api/v1/tenants/${tenantId}/blocked-ips`, { key })).body.total_count,
    ).toBe(0);
  });

  it('concurrent failures from both replicas are counted exactly once each', async () => {
    const { tenantId } = await newTenant(a, [], {
      block_config: { user: { max_attempts: 20, window_seconds: 300, block_seconds: 600 } },
    });
    const onA = a.app.get(BlockerService);
    const onB = b.app.get(BlockerService);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? onA : onB).recordFailure(tenantId, { username: 'carol' }),
      ),
    );
    // Exactly one failure (the 20th, whichever replica counted it) started the block.
    expect(results.filter((r) => r.blocked)).toHaveLength(1);
    expect((await onA.check(tenantId, { username: 'carol' })).blocked).toBe(true);
    const rows = await a.http('GET', `/api/v1/tenants/${tenantId}/blocked-users`);
    expect(rows.body.data).toEqual([expect.objectContaining({ username: 'carol', attempts: 20 })]);
  });

  it('a success on one replica forgives the username on the other', async () => {
    const { tenantId } = await newTenant(a, [], {
      block_config: { user: { max_attempts: 3, window_seconds: 300, block_seconds: 600 } },
    });
    const onA = a.app.get(BlockerService);
    const onB = b.app.get(BlockerService);
    await onA.recordFailure(tenantId, { username: 'dave' });
    await onA.recordFailure(tenantId, { username: 'dave' });
    await onB.recordSuccess(tenantId, { username: 'dave' });
    await onA.recordFailure(tenantId, { username: 'dave' });
    expect((await onB.check(tenantId, { username: 'dave' })).blocked).toBe(false);
  });
});
