import { app as appFixture, signedIn } from './fixtures.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { OwnRedis } from '../bench/faults/own-redis.js';

const userLimits = {
  block_config: {
    ip: { max_attempts: 100, window_seconds: 300, block_seconds: 600 },
    user: { max_attempts: 3, window_seconds: 300, block_seconds: 600 },
  },
};

/** A hosted sign-in: true when the user got back to the app, false when the form refused. */
async function signsIn(
  config: Parameters<typeof signedIn>[0],
  username: string,
  password?: string,
) {
  try {
    await signedIn(config, { username, password });
    return true;
  } catch (err) {
    if (/unexpected (200|401|429)/.test(String(err))) return false;
    throw err;
  }
}

/** The listed logins (an account block, by user id, is listed with the login that started it). */
async function blockedUsers(t: TestApp, tenantId: string): Promise<string[]> {
  const r = await t.http('GET', `/api/v1/tenants/${tenantId}/blocked-users`);
  expect(r.status).toBe(200);
  return r.body.data
    .filter((b: { username?: string }) => b.username)
    .map((b: { username: string }) => b.username)
    .toSorted();
}

/** Lifts every listed block of the tenant's users (logins and accounts) through the API. */
async function unblockAll(t: TestApp, tenantId: string) {
  const r = await t.http('GET', `/api/v1/tenants/${tenantId}/blocked-users`);
  for (const b of r.body.data as Array<{ username?: string; user_id?: string }>) {
    const del = await t.http(
      'DELETE',
      `/api/v1/tenants/${tenantId}/blocked-users/${encodeURIComponent(b.username ?? b.user_id!)}`,
    );
    expect(del.status).toBe(204);
  }
  expect((await t.http('GET', `/api/v1/tenants/${tenantId}/blocked-users`)).body.total_count).toBe(
    0,
  );
}

/**
 * The database record is the block: Redis holds counters only, so a Redis that restarts empty
 * or is down forgets counts, never blocks, and GET /blocked-users is what is enforced.
 */
describe('durable blocks', () => {
  let redis: OwnRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('a listed block holds after Redis restarts empty and while it is down; wrong passwords are counted during the outage', async () => {
    const f = await appFixture(t, { settings: userLimits });
    await t.http('POST', `/api/v1/tenants/${f.tenantId}/users`, {
      body: { username: 'bob', email: 'bob@example.com', password: 'bob password 123' },
    });
    for (let i = 0; i < 3; i++) expect(await signsIn(f.config, 'alice', 'wrong')).toBe(false);
    expect(await blockedUsers(t, f.tenantId)).toEqual(['alice']);
    expect(await signsIn(f.config, 'alice')).toBe(false);

    // Redis restarts with nothing in it: the block is still listed and still enforced.
    await redis.stop();
    await redis.start();
    expect(await blockedUsers(t, f.tenantId)).toEqual(['alice']);
    expect(await signsIn(f.config, 'alice')).toBe(false);

    // Redis is down: the block holds, and failures are counted here (BLOCKER_REDIS_OUTAGE=local).
    await redis.stop();
    expect(await signsIn(f.config, 'alice')).toBe(false);
    for (let i = 0; i < 3; i++) expect(await signsIn(f.config, 'bob', 'wrong')).toBe(false);
    expect(await blockedUsers(t, f.tenantId)).toEqual(['alice', 'bob']);
    expect(await signsIn(f.config, 'bob', 'bob password 123')).toBe(false);

    // Lifted through the API while Redis is still down: both sign in again at once.
    await unblockAll(t, f.tenantId);
    expect(await signsIn(f.config, 'alice')).toBe(true);
    expect(await signsIn(f.config, 'bob', 'bob password 123')).toBe(true);
    await redis.start();
  });

  it('enforces a block recorded by another replica even when no signal reached this one', async () => {
    const f = await appFixture(t, { settings: userLimits });
    expect(await signsIn(f.config, 'alice')).toBe(true);
    // What another replica writes when its counters start a block (its signal lost here).
    const other = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const { BlockerService } = await import('../src/blocker/blocker.service.js');
      for (let i = 0; i < 3; i++)
        await other.app.get(BlockerService).recordFailure(f.tenantId, { username: 'alice' });
    } finally {
      await other.close();
    }
    expect(await blockedUsers(t, f.tenantId)).toEqual(['alice']);
    // Within the cache's lifetime (10 s), the listed block is enforced here too.
    await waitUntil('the block to be enforced', async () => !(await signsIn(f.config, 'alice')), {
      timeoutMs: 15_000,
      intervalMs: 500,
    });
    await unblockAll(t, f.tenantId);
    expect(await signsIn(f.config, 'alice')).toBe(true);
  });
});

describe('BLOCKER_REDIS_OUTAGE while Redis is unreachable', () => {
  const dead = { REDIS_URL: 'redis://127.0.0.1:1' };

  it('closed: refuses credential checks that cannot be counted', async () => {
    const t = await startTestApp({ env: { ...dead, BLOCKER_REDIS_OUTAGE: 'closed' } });
    try {
      const f = await appFixture(t, { settings: userLimits });
      expect(await signsIn(f.config, 'alice')).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('open: does not count, so no block starts', async () => {
    const t = await startTestApp({ env: { ...dead, BLOCKER_REDIS_OUTAGE: 'open' } });
    try {
      const f = await appFixture(t, { settings: userLimits });
      for (let i = 0; i < 4; i++) expect(await signsIn(f.config, 'alice', 'wrong')).toBe(false);
      expect(await blockedUsers(t, f.tenantId)).toEqual([]);
      expect(await signsIn(f.config, 'alice')).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('local (the default): counts in memory and records the block', async () => {
    const t = await startTestApp({ env: dead });
    try {
      const f = await appFixture(t, { settings: userLimits });
      for (let i = 0; i < 3; i++) expect(await signsIn(f.config, 'alice', 'wrong')).toBe(false);
      expect(await blockedUsers(t, f.tenantId)).toEqual(['alice']);
      expect(await signsIn(f.config, 'alice')).toBe(false);
    } finally {
      await t.close();
    }
  });
});
