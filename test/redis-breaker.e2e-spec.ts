import * as client from 'openid-client';
import { REDIS_BREAKER, REDIS_CLIENT, type RedisBreaker } from '../src/redis/redis.module.js';
import type { Redis } from 'ioredis';
import * as fixtures from './fixtures.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { OwnRedis } from '../bench/faults/own-redis.js';

const limits = {
  block_config: {
    ip: { max_attempts: 100, window_seconds: 300, block_seconds: 600 },
    user: { max_attempts: 2, window_seconds: 300, block_seconds: 600 },
  },
};

/**
 * A Redis outage (a redis-server of the test's own, killed and started again): the hot paths
 * answer as usual without waiting for Redis, blocks hold, one warning per outage, and the
 * breaker closes by itself when Redis is back. Latency is measured in bench/faults/redis-outage.ts.
 */
describe('Redis circuit breaker', () => {
  let redis: OwnRedis;
  let t: TestApp;
  const logs: string[] = [];
  beforeAll(async () => {
    redis = await OwnRedis.start();
    t = await startTestApp({ logs, env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const lines = (msg: RegExp) =>
    logs.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => msg.test(l.msg));

  it('serves token, refresh, userinfo and sign-in during an outage, keeps blocks, and recovers', async () => {
    const x = await fixtures.app(t, {
      settings: limits,
      client: fixtures.webApp(fixtures.REDIRECT, {
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      }),
    });
    await t.http('POST', `/api/v1/tenants/${x.tenantId}/users`, {
      body: { username: 'mallory', email: 'mallory@example.com', password: 'mallory pass 123' },
    });
    const tokens = await fixtures.exchange(x.config, await fixtures.signedIn(x.config));
    // mallory is blocked before the outage.
    for (let i = 0; i < 2; i++)
      await expect(
        fixtures.signedIn(x.config, { username: 'mallory', password: 'wrong' }),
      ).rejects.toThrow(/unexpected 401/);
    const breaker = t.app.get<RedisBreaker>(REDIS_BREAKER);
    expect(breaker.isOpen).toBe(false);

    await redis.stop();
    await waitUntil('the breaker to open', () => breaker.isOpen, { timeoutMs: 5_000 });
    // Fail fast: a command is refused at once, not queued for a reconnect.
    await expect(t.app.get<Redis>(REDIS_CLIENT).get('anything')).rejects.toThrow(
      /circuit open|enableOfflineQueue/,
    );

    expect((await client.clientCredentialsGrant(x.config)).access_token).toBeTruthy();
    const rotated = await client.refreshTokenGrant(x.config, tokens.refresh_token!);
    expect((await client.fetchUserInfo(x.config, rotated.access_token, x.user.user_id)).sub).toBe(
      x.user.user_id,
    );
    expect(await fixtures.exchange(x.config, await fixtures.signedIn(x.config))).toMatchObject({
      token_type: expect.stringMatching(/bearer/i),
    });
    await expect(
      fixtures.signedIn(x.config, { username: 'mallory', password: 'mallory pass 123' }),
    ).rejects.toThrow(/unexpected 401/);

    await redis.start();
    await waitUntil('the breaker to close', () => !breaker.isOpen, { timeoutMs: 10_000 });
    expect(await t.app.get<Redis>(REDIS_CLIENT).ping()).toBe('PONG');
    expect((await client.clientCredentialsGrant(x.config)).access_token).toBeTruthy();
    // One warning for the outage and one line for the recovery, however many requests came.
    expect(lines(/Redis unreachable/)).toHaveLength(1);
    expect(lines(/Redis reachable again/)).toHaveLength(1);
  }, 60_000);

  it('opens on a Redis that stops answering without closing (timeouts), and closes when it answers', async () => {
    const x = await fixtures.app(t, {
      settings: limits,
      client: fixtures.webApp(fixtures.REDIRECT, { grant_types: ['client_credentials'] }),
    });
    const breaker = t.app.get<RedisBreaker>(REDIS_BREAKER);
    await waitUntil('the breaker to be closed', () => !breaker.isOpen, { timeoutMs: 10_000 });
    const before = lines(/Redis unreachable/).length;
    redis.pause();
    try {
      // Every request still answers; the first ones after the freeze wait for a command timeout.
      await waitUntil(
        'the breaker to open on timeouts',
        async () => {
          expect((await client.clientCredentialsGrant(x.config)).access_token).toBeTruthy();
          return breaker.isOpen;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      await expect(t.app.get<Redis>(REDIS_CLIENT).get('anything')).rejects.toThrow(/circuit open/);
      expect((await client.clientCredentialsGrant(x.config)).access_token).toBeTruthy();
    } finally {
      redis.resume();
    }
    await waitUntil('the breaker to close', () => !breaker.isOpen, { timeoutMs: 15_000 });
    expect(await t.app.get<Redis>(REDIS_CLIENT).ping()).toBe('PONG');
    expect(lines(/Redis unreachable/).length).toBe(before + 1);
  }, 60_000);
});
