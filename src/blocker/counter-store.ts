import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { BlockLimits } from '../tenants/tenant-settings.js';

export interface FailureOutcome {
  /** Failures in the window, including this one (the count that started a block, if one did). */
  attempts: number;
  /** Milliseconds of block left: this failure started it, or one was already running. 0: none. */
  blockedForMs: number;
  blockStarted: boolean;
}

/**
 * Sliding-window failure counters and running blocks, keyed by `<tenant>:<kind>:<subject>`.
 * Redis when configured (shared by every replica), otherwise this process's memory.
 */
export interface CounterStore {
  /** Counts one failure; reaching `max_attempts` in the window starts a block and clears the window. */
  recordFailure(key: string, limits: BlockLimits): Promise<FailureOutcome>;
  /** Milliseconds of block left for each key (0 when not blocked). */
  blockedFor(keys: string[]): Promise<number[]>;
  /** Block time left per key, and whether failures are counted for `failuresOf`: one round trip. */
  status(
    keys: string[],
    failuresOf: string | undefined,
  ): Promise<{ left: number[]; failures: boolean }>;
  /** Forgets the failures in the window (a success); a running block stays. */
  resetFailures(key: string): Promise<void>;
  /** Lifts a block and forgets the failures; answers whether a block was running. */
  unblock(key: string): Promise<boolean>;
}

/**
 * One script, so counting, trimming the window and starting a block happen atomically even
 * when replicas count the same IP at once. Redis's clock, not the replicas', sets the window.
 */
const RECORD_FAILURE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {0, left, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], n, 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {n, tonumber(ARGV[3]), 1}
end
redis.call('PEXPIRE', KEYS[1], window)
return {n, 0, 0}
`;

type ScriptedRedis = Redis & {
  blockerRecordFailure(
    attempts: string,
    block: string,
    ...args: string[]
  ): Promise<[number, number, number]>;
};

export class RedisCounterStore implements CounterStore {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis) {
    if (!(redis as unknown as Partial<ScriptedRedis>).blockerRecordFailure) {
      redis.defineCommand('blockerRecordFailure', { numberOfKeys: 2, lua: RECORD_FAILURE });
    }
    this.redis = redis as unknown as ScriptedRedis;
  }

  private attemptsKey = (key: string) => `blocker:attempts:${key}`;
  private blockKey = (key: string) => `blocker:block:${key}`;

  async recordFailure(key: string, limits: BlockLimits): Promise<FailureOutcome> {
    const [attempts, blockedForMs, started] = await this.redis.blockerRecordFailure(
      this.attemptsKey(key),
      this.blockKey(key),
      String(limits.window_seconds * 1000),
      String(limits.max_attempts),
      String(limits.block_seconds * 1000),
      // Distinct member per failure: two failures in one millisecond are two failures.
      randomBytes(8).toString('hex'),
    );
    return { attempts, blockedForMs, blockStarted: started === 1 };
  }

  async blockedFor(keys: string[]): Promise<number[]> {
    if (!keys.length) return [];
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.pttl(this.blockKey(k));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, ms]) => {
      if (err) throw err;
      return Math.max(0, Number(ms));
    });
  }

  async status(keys: string[], failuresOf: string | undefined) {
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.pttl(this.blockKey(k));
    if (failuresOf !== undefined) pipeline.exists(this.attemptsKey(failuresOf));
    const results = (await pipeline.exec()) ?? [];
    const values = results.map(([err, v]) => {
      if (err) throw err;
      return Number(v);
    });
    return {
      left: values.slice(0, keys.length).map((ms) => Math.max(0, ms)),
      failures: failuresOf !== undefined && values[keys.length] > 0,
    };
  }

  async resetFailures(key: string): Promise<void> {
    await this.redis.del(this.attemptsKey(key));
  }

  async unblock(key: string): Promise<boolean> {
    const [[, blocks]] = (await this.redis
      .multi()
      .del(this.blockKey(key))
      .del(this.attemptsKey(key))
      .exec()) as Array<[Error | null, number]>;
    return Number(blocks) > 0;
  }
}

/** Single-replica stand-in: bounded LRUs, so a flood of distinct IPs cannot exhaust memory. */
export class MemoryCounterStore implements CounterStore {
  private readonly failures = new LRUCache<string, number[]>({ max: 100_000 });
  private readonly blocks = new LRUCache<string, number>({ max: 100_000 });

  async recordFailure(key: string, limits: BlockLimits): Promise<FailureOutcome> {
    const now = Date.now();
    const left = this.leftMs(key, now);
    if (left > 0) return { attempts: 0, blockedForMs: left, blockStarted: false };
    const windowStart = now - limits.window_seconds * 1000;
    const recent = (this.failures.get(key) ?? []).filter((t) => t > windowStart);
    recent.push(now);
    if (recent.length >= limits.max_attempts) {
      const blockMs = limits.block_seconds * 1000;
      this.blocks.set(key, now + blockMs, { ttl: blockMs });
      this.failures.delete(key);
      return { attempts: recent.length, blockedForMs: blockMs, blockStarted: true };
    }
    this.failures.set(key, recent, { ttl: limits.window_seconds * 1000 });
    return { attempts: recent.length, blockedForMs: 0, blockStarted: false };
  }

  private leftMs(key: string, now: number): number {
    const until = this.blocks.get(key);
    return until === undefined ? 0 : Math.max(0, until - now);
  }

  async blockedFor(keys: string[]): Promise<number[]> {
    const now = Date.now();
    return keys.map((k) => this.leftMs(k, now));
  }

  async status(keys: string[], failuresOf: string | undefined) {
    return {
      left: await this.blockedFor(keys),
      failures: failuresOf !== undefined && (this.failures.get(failuresOf)?.length ?? 0) > 0,
    };
  }

  async resetFailures(key: string): Promise<void> {
    this.failures.delete(key);
  }

  async unblock(key: string): Promise<boolean> {
    const was = this.leftMs(key, Date.now()) > 0;
    this.blocks.delete(key);
    this.failures.delete(key);
    return was;
  }
}
