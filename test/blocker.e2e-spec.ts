import { BlockerService, tooManyAttempts } from '../src/blocker/blocker.service.js';
import { AuditService } from '../src/audit/audit.service.js';
import { waitUntil, newTenant, startTestApp, type TestApp } from './harness.js';
import { toProblemException } from '../src/common/problem.filter.js';

const limits = (ip: number, user: number, blockSeconds = 900) => ({
  block_config: {
    ip: { max_attempts: ip, window_seconds: 300, block_seconds: blockSeconds },
    user: { max_attempts: user, window_seconds: 300, block_seconds: blockSeconds },
  },
});

/**
 * What every credential check does (the hosted login calls the same service): ask the blocker
 * first, and only when not blocked compare the password, then report the outcome.
 */
function loginHarness(blocker: BlockerService, tenantId: string, password: string) {
  const hashed: string[] = [];
  const attempt = async (ip: string, username: string, given: string) => {
    const check = await blocker.check(tenantId, { ip, username });
    if (check.blocked) return { ok: false, blocked: true, retryAfter: check.retryAfterSeconds };
    hashed.push(given); // stands for the bcrypt compare: never reached while blocked
    if (given === password) {
      await blocker.recordSuccess(tenantId, { ip, username });
      return { ok: true, blocked: false, retryAfter: 0 };
    }
    await blocker.recordFailure(tenantId, { ip, username, method: 'password' });
    return { ok: false, blocked: false, retryAfter: 0 };
  };
  return { attempt, hashed };
}

describe('brute-force blocker (in-process counters)', () => {
  let t: TestApp;
  let blocker: BlockerService;
  beforeAll(async () => {
    t = await startTestApp();
    blocker = t.app.get(BlockerService);
  });
  afterAll(() => t.close());

  it('blocks an IP at the N+1th attempt, refuses even the right password, serves another IP', async () => {
    const { tenantId } = await newTenant(t, ['blocker:write'], limits(3, 100));
    const login = loginHarness(blocker, tenantId, 'right');
    for (let i = 0; i < 3; i++) {
      // Different usernames: only the IP dimension can add up.
      expect(await login.attempt('198.51.100.7', `user${i}`, 'wrong')).toEqual({
        ok: false,
        blocked: false,
        retryAfter: 0,
      });
    }
    const fourth = await login.attempt('198.51.100.7', 'user0', 'right');
    expect(fourth.ok).toBe(false);
    expect(fourth.blocked).toBe(true);
    expect(fourth.retryAfter).toBeGreaterThan(890);
    expect(fourth.retryAfter).toBeLessThanOrEqual(900);
    // The right password was never even compared while blocked.
    expect(login.hashed).toEqual(['wrong', 'wrong', 'wrong']);
    expect(await login.attempt('198.51.100.8', 'user0', 'right')).toEqual({
      ok: true,
      blocked: false,
      retryAfter: 0,
    });
    // Blocks are per tenant.
    const other = await newTenant(t, [], limits(3, 100));
    expect((await blocker.check(other.tenantId, { ip: '198.51.100.7' })).blocked).toBe(false);
  });

  it('blocks a username from any IP; a success before the limit resets its counter', async () => {
    const { tenantId } = await newTenant(t, [], limits(100, 3));
    const login = loginHarness(blocker, tenantId, 'right');
    await login.attempt('192.0.2.1', 'Alice', 'wrong');
    await login.attempt('192.0.2.2', 'alice', 'wrong');
    expect((await login.attempt('192.0.2.3', 'alice', 'right')).ok).toBe(true);
    // Forgiven: two more failures do not reach the limit of three.
    await login.attempt('192.0.2.4', 'alice', 'wrong');
    await login.attempt('192.0.2.5', 'ALICE ', 'wrong');
    expect((await login.attempt('192.0.2.6', 'alice', 'right')).ok).toBe(true);
    for (let i = 0; i < 3; i++) await login.attempt(`192.0.2.${10 + i}`, 'alice', 'wrong');
    const blocked = await login.attempt('192.0.2.99', 'alice', 'right');
    expect(blocked).toMatchObject({ ok: false, blocked: true });
    const check = await blocker.check(tenantId, { ip: '192.0.2.99', username: 'Alice' });
    expect(check).toMatchObject({ blocked: true, kind: 'user' });
    // The API answer for a blocked caller.
    const problem = toProblemException(tooManyAttempts(check));
    expect(problem.status).toBe(429);
    expect(Number(problem.headers?.['retry-after'])).toBe(check.retryAfterSeconds);
    expect((await blocker.check(tenantId, { username: 'bob' })).blocked).toBe(false);
  });

  it('a block ends by itself after block_seconds', async () => {
    const { tenantId } = await newTenant(t, [], limits(2, 100, 1));
    await blocker.recordFailure(tenantId, { ip: '203.0.113.50' });
    const started = await blocker.recordFailure(tenantId, { ip: '203.0.113.50' });
    expect(started).toMatchObject({ blocked: true, retryAfterSeconds: 1, kind: 'ip' });
    expect((await blocker.check(tenantId, { ip: '203.0.113.50' })).blocked).toBe(true);
    // The one-second block runs out on the clock: wait until the check lets the IP through.
    await waitUntil(
      'the block to end',
      async () => !(await blocker.check(tenantId, { ip: '203.0.113.50' })).blocked,
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect((await blocker.check(tenantId, { ip: '203.0.113.50' })).blocked).toBe(false);
  });

  it('lists running blocks with pagination and lifts them through the API', async () => {
    const { tenantId, key } = await newTenant(t, ['blocker:write', 'audit:read'], limits(1, 1));
    for (let i = 1; i <= 5; i++) {
      await blocker.recordFailure(tenantId, { ip: `10.0.0.${i}`, username: `user${i}` });
    }
    const base = `/api/v1/tenants/${tenantId}`;
    const first = await t.http('GET', `${base}/blocked-ips?page=0&page_size=2&sort_direction=1`, {
      key,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ has_next: true, total_count: 5 });
    expect(first.body.data).toEqual([
      expect.objectContaining({
        ip: '10.0.0.1',
        attempts: 1,
        retry_after_seconds: expect.any(Number),
      }),
      expect.objectContaining({ ip: '10.0.0.2' }),
    ]);
    const last = await t.http('GET', `${base}/blocked-ips?page=2&page_size=2&sort_direction=1`, {
      key,
    });
    expect(last.body).toMatchObject({
      has_next: false,
      total_count: 5,
      data: [expect.objectContaining({ ip: '10.0.0.5' })],
    });
    const desc = await t.http('GET', `${base}/blocked-ips?sort_direction=-1&page_size=1`, { key });
    expect(desc.body.data[0].ip).toBe('10.0.0.5');
    const users = await t.http('GET', `${base}/blocked-users?limit=10&sort_direction=1`, { key });
    expect(users.body.data.map((b: { username: string }) => b.username)).toEqual([
      'user1',
      'user2',
      'user3',
      'user4',
      'user5',
    ]);

    expect((await t.http('DELETE', `${base}/blocked-ips/10.0.0.3`, { key })).status).toBe(204);
    expect((await blocker.check(tenantId, { ip: '10.0.0.3' })).blocked).toBe(false);
    // The counter went with it: one new failure blocks again only because the limit is 1.
    expect((await t.http('DELETE', `${base}/blocked-ips/10.0.0.3`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${base}/blocked-users/USER4`, { key })).status).toBe(204);
    expect((await blocker.check(tenantId, { username: 'user4' })).blocked).toBe(false);
    const after = await t.http('GET', `${base}/blocked-ips`, { key });
    expect(after.body.total_count).toBe(4);

    await t.app.get(AuditService).flush();
    const events = await t.http('GET', `${base}/audit-events?type=blocker.*`, { key });
    const types = events.body.data.map(
      (e: { type: string; subject_id: string }) => `${e.type}:${e.subject_id}`,
    );
    expect(types).toContain('blocker.unblock:10.0.0.3');
    expect(types).toContain('blocker.unblock:user4');
    expect(types).toContain('blocker.block:10.0.0.1');
    const unblock = events.body.data.find((e: { type: string }) => e.type === 'blocker.unblock');
    expect(unblock).toMatchObject({ actor_type: 'api_key', ip: '127.0.0.1' });
    // Unblocking is recorded once, as blocker.unblock, not again as a generic admin change.
    const admin = await t.http('GET', `${base}/audit-events?type=admin.blocked-*`, { key });
    expect(admin.body.data).toEqual([]);
  });

  it('validates list and unblock input, and enforces blocker scopes', async () => {
    const { tenantId, key } = await newTenant(t, ['blocker:write']);
    const base = `/api/v1/tenants/${tenantId}`;
    for (const q of [
      'page=-1',
      'page_size=0',
      'page_size=501',
      'page=x',
      'sort_direction=2',
      'limit=501',
      'nope=1',
    ]) {
      const r = await t.http('GET', `${base}/blocked-ips?${q}`, { key });
      expect([q, r.status]).toEqual([q, 400]);
    }
    expect((await t.http('DELETE', `${base}/blocked-ips/not-an-ip`, { key })).status).toBe(400);
    expect((await t.http('DELETE', `${base}/blocked-ips/10.9.9.9`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${base}/blocked-users/nobody`, { key })).status).toBe(404);
    const reader = await t.http('POST', `${base}/api-keys`, {
      body: { name: 'r', scopes: ['blocker:read'] },
    });
    const readKey = reader.body.api_key;
    expect((await t.http('GET', `${base}/blocked-users`, { key: readKey })).status).toBe(200);
    expect((await t.http('DELETE', `${base}/blocked-users/x`, { key: readKey })).status).toBe(403);
    const other = await newTenant(t, ['blocker:write']);
    expect((await t.http('GET', `${base}/blocked-ips`, { key: other.key })).status).toBe(404);
  });
});
