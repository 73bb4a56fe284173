import { startTestApp } from './harness.js';

/** Redis is optional infrastructure: a replica must start and serve while it is down. */
describe('Redis unreachable', () => {
  it('starts, serves the API and the blocker without it, logs a few lines, and stops', async () => {
    const logs: string[] = [];
    // Port 1 on loopback: nothing listens, every connection is refused.
    const t = await startTestApp({ logs, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      expect((await t.http('GET', '/api/v1/tenants?limit=1')).status).toBe(200);
      expect((await t.http('GET', '/health/ready')).status).toBe(200);
      // A bad API key goes through the blocker, which falls back to not blocking.
      expect((await t.http('GET', '/api/v1/tenants', { key: 'idp_op_wrong' })).status).toBe(401);
    } finally {
      await t.close();
    }
    const warnings = logs
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .filter((l) => l.level === 'warn' || l.level === 'error');
    // One line per component that noticed, not one per reconnect attempt or request.
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(6);
    expect(warnings.filter((l) => l.level === 'error')).toEqual([]);
  });
});
