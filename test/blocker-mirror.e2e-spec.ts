import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BlockerService } from '../src/blocker/blocker.service.js';
import { RedisCounterStore } from '../src/blocker/counter-store.js';
import { createRedisClient } from '../src/redis/redis.module.js';
import { waitUntil, startTestApp } from './harness.js';

const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const limits = { max_attempts: 3, window_seconds: 60, block_seconds: 600 };

/** Polls until `probe` holds: pub/sub delivery is quick but not instantaneous. */
const until = (what: string, probe: () => boolean | Promise<boolean>, ms = 1_000) =>
  waitUntil(what, probe, { timeoutMs: ms, intervalMs: 5 });

interface Replica {
  name: string;
  client: Redis;
  store: RedisCounterStore;
  /** Commands this replica's own client sent (its subscriber is another connection). */
  sent: string[];
}

/**
 * The local view of the blocker's Redis counters, with stores built directly on their own
 * clients: each store is one replica. Every deployment (and this suite) has its own keyPrefix.
 */
describe('brute-force blocker: local view of the Redis counters', () => {
  const prefix = `idp-test-${randomBytes(6).toString('hex')}:`;
  const otherPrefix = `idp-test-${randomBytes(6).toString('hex')}:`;
  const smallPrefix = `idp-test-${randomBytes(6).toString('hex')}:`;
  const replicas: Replica[] = [];
  let inspect: Redis;
  let n = 0;
  const key = (label: string) => `t${++n}:user:${label}`;

  async function replica(keyPrefix = prefix, maxViewEntries?: number): Promise<Replica> {
    const name = `idp-test-${randomBytes(4).toString('hex')}`;
    const client = new Redis(`${REDIS}?keyPrefix=${encodeURIComponent(keyPrefix)}`, {
      connectionName: name,
      // The subscriber inherits it: a killed subscriber stays away long enough to miss changes.
      retryStrategy: () => 300,
    });
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command, stream) => {
      sent.push(command.name);
      return send(command, stream);
    }) as typeof client.sendCommand;
    const store = new RedisCounterStore(client, { maxViewEntries });
    const r = { name, client, store, sent };
    replicas.push(r);
    await store.blockedFor([]); // the view starts with the store's first use
    await until('the view to be in sync', () => store.inSync, 2_000);
    return r;
  }

  /** Runs `call` and answers whether it went to Redis. */
  async function asked<T>(r: Replica, call: () => Promise<T>): Promise<[T, boolean]> {
    r.sent.length = 0;
    const result = await call();
    return [result, r.sent.length > 0];
  }

  let warnings: jest.Spied<Logger['warn']>;
  beforeAll(() => {
    inspect = new Redis(REDIS);
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
  });
  afterAll(async () => {
    for (const r of replicas) {
      await r.store.close();
      r.client.disconnect();
    }
    warnings.mockRestore();
    for (const p of [prefix, otherPrefix, smallPrefix]) {
      const keys = await inspect.keys(`${p}*`);
      if (keys.length) await inspect.del(...keys);
    }
    inspect.disconnect();
  });

  it('answers a clean key from memory, without any Redis command', async () => {
    const a = await replica();
    const [ip, user] = [key('ip'), key('alice')];
    expect(await asked(a, () => a.store.status([ip, user], user))).toEqual([
      { left: [0, 0], failures: false },
      false,
    ]);
    expect(await asked(a, () => a.store.blockedFor([ip, user]))).toEqual([[0, 0], false]);
    // The same answer without waiting, which the client-authentication guard uses.
    expect(a.store.knownStatus([ip, user], user)).toEqual({ left: [0, 0], failures: false });
    // Its own failure is known before recordFailure resolves: the next check asks Redis.
    await a.store.recordFailure(user, limits);
    expect(a.store.knownStatus([ip, user], user)).toBeUndefined();
    expect(a.store.knownStatus([ip], undefined)).toEqual({ left: [0], failures: false });
    expect(await asked(a, () => a.store.status([ip, user], user))).toEqual([
      { left: [0, 0], failures: true },
      true,
    ]);
    // Failures alone do not make a block: "blocked?" is still answered here.
    expect(await asked(a, () => a.store.blockedFor([user]))).toEqual([[0], false]);
  });

  it("sees another replica's failures and blocks once they are published, and asks Redis", async () => {
    const [a, b] = [await replica(), await replica()];
    const k = key('bob');
    expect((await b.store.recordFailure(k, limits)).attempts).toBe(1);
    await until('the failure to reach replica a', async () => {
      const [status, wentToRedis] = await asked(a, () => a.store.status([k], k));
      return wentToRedis && status.failures;
    });
    await b.store.recordFailure(k, limits);
    expect(await b.store.recordFailure(k, limits)).toMatchObject({ blockStarted: true });
    await until('the block to reach replica a', async () => {
      const [[left], wentToRedis] = await asked(a, () => a.store.blockedFor([k]));
      return wentToRedis && left > 590_000;
    });
    const other = key('carol');
    const [status] = await asked(a, () => a.store.status([other, k], k));
    expect(status.left[0]).toBe(0);
    expect(status.left[1]).toBeGreaterThan(590_000);
    expect(status.failures).toBe(false); // the block started a new window
  });

  it('a reset or an unblock on another replica clears the key here', async () => {
    const [a, b] = [await replica(), await replica()];
    const k = key('dave');
    await b.store.recordFailure(k, limits);
    await until('the failure', async () => (await asked(a, () => a.store.status([k], k)))[1]);
    await b.store.resetFailures(k);
    await until('the reset', async () => {
      const [status, wentToRedis] = await asked(a, () => a.store.status([k], k));
      return !wentToRedis && !status.failures;
    });

    for (let i = 0; i < limits.max_attempts; i++) await b.store.recordFailure(k, limits);
    await until('the block', async () => (await a.store.blockedFor([k]))[0] > 0);
    expect(await b.store.unblock(k)).toBe(true);
    await until('the unblock', async () => {
      const [[left], wentToRedis] = await asked(a, () => a.store.blockedFor([k]));
      return !wentToRedis && left === 0;
    });

    // The replica that lifts a block knows at once.
    for (let i = 0; i < limits.max_attempts; i++) await a.store.recordFailure(k, limits);
    expect(await a.store.unblock(k)).toBe(true);
    expect(await asked(a, () => a.store.status([k], k))).toEqual([
      { left: [0], failures: false },
      false,
    ]);
  });

  it('out of sync while its subscriber is gone, and a resync finds what it missed', async () => {
    const [a, b] = [await replica(), await replica()];
    const [missed, silent, clean] = [key('erin'), key('frank'), key('grace')];
    // State whose message never came (written behind the stores' backs): only a SCAN finds it.
    await inspect.zadd(`${prefix}blocker:attempts:${silent}`, Date.now(), 'x');
    await inspect.pexpire(`${prefix}blocker:attempts:${silent}`, 60_000);
    // In sync, the view trusts the channel...
    expect(await asked(a, () => a.store.status([silent], silent))).toEqual([
      { left: [0], failures: false },
      false,
    ]);

    const line = ((await inspect.client('LIST')) as string)
      .split('\n')
      .find((l) => l.includes(` name=${a.name}:blocker-view `));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    expect(id).toBeDefined();
    await inspect.client('KILL', 'ID', id!);
    await until('replica a to notice', () => !a.store.inSync);
    // ...out of sync, every check asks Redis, which knows.
    expect(await asked(a, () => a.store.status([silent], silent))).toEqual([
      { left: [0], failures: true },
      true,
    ]);
    expect(await asked(a, () => a.store.status([clean], clean))).toEqual([
      { left: [0], failures: false },
      true,
    ]);
    // A failure elsewhere while a's subscriber is away (it reconnects after 300 ms).
    await b.store.recordFailure(missed, limits);

    await until('replica a to resync', () => a.store.inSync, 3_000);
    for (const k of [missed, silent])
      expect(await asked(a, () => a.store.status([k], k))).toEqual([
        { left: [0], failures: true },
        true,
      ]);
    expect(await asked(a, () => a.store.status([clean], clean))).toEqual([
      { left: [0], failures: false },
      false,
    ]);
  });

  it('another deployment (keyPrefix) on the same Redis sees none of these changes', async () => {
    const [a, b] = [await replica(), await replica()];
    const [c, c2] = [await replica(otherPrefix), await replica(otherPrefix)];
    const k = key('heidi');
    await b.store.recordFailure(k, limits);
    await until('the failure', async () => (await asked(a, () => a.store.status([k], k)))[1]);
    // A change in c's own deployment, published after b's: once c has it, it has all before it.
    const marker = key('marker');
    await c2.store.recordFailure(marker, limits);
    await until(
      'the marker',
      async () => (await asked(c, () => c.store.status([marker], marker)))[1],
    );
    expect(await asked(c, () => c.store.status([k], k))).toEqual([
      { left: [0], failures: false },
      false,
    ]);
  });

  it('a view that outgrows its bound stops answering rather than forgetting keys', async () => {
    const [a, b] = [await replica(smallPrefix, 2), await replica(smallPrefix)];
    const keys = [key('i1'), key('i2'), key('i3')];
    for (const k of keys) await b.store.recordFailure(k, limits);
    await until('the view to give up', () => !a.store.inSync);
    for (const k of [...keys, key('clean')])
      expect((await asked(a, () => a.store.status([k], k)))[1]).toBe(true);
  });

  it('with Redis down the store fails its calls, as before, and closes without hanging', async () => {
    const client = createRedisClient('redis://127.0.0.1:1');
    client.on('error', () => {});
    const store = new RedisCounterStore(client);
    warnings.mockClear();
    await expect(store.status(['k'], 'k')).rejects.toThrow();
    expect(store.inSync).toBe(false);
    expect(warnings).toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/out of sync/));
    await store.close();
    client.disconnect();
  });

  it('the application closes the subscriber on shutdown', async () => {
    const appPrefix = `idp-test-${randomBytes(6).toString('hex')}:`;
    const app = await startTestApp({
      env: { REDIS_URL: `${REDIS}?keyPrefix=${encodeURIComponent(appPrefix)}` },
    });
    const subscribers = async () =>
      ((await inspect.pubsub('NUMSUB', `${appPrefix}blocker:changes`)) as [string, number])[1];
    try {
      await app.app.get(BlockerService).check('t', { ip: '192.0.2.7' });
      await until('the subscriber', async () => (await subscribers()) === 1, 2_000);
    } finally {
      await app.close();
    }
    await until('the subscriber to leave', async () => (await subscribers()) === 0);
  });
});
