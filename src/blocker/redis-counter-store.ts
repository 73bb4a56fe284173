import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { BlockLimits } from '../tenants/tenant-settings.js';
import type { CounterStatus, CounterStore, FailureOutcome } from './counter-store.js';
import { CounterView } from './counter-view.js';
import { onceEvery } from '../common/throttle.js';

/**
 * Every change is published on `<prefix>blocker:changes` from inside the script that makes it,
 * as `<version> <failures ms> <block ms> <key>`: the version comes from one INCR per change
 * (Redis's order of changes), the two durations are the key's whole state after the change.
 * Version 0 is a fact outside that order (a block seen running), which only ever adds state.
 */
const VERSION_KEY = 'blocker:version';

/**
 * One script, so counting, trimming the window and starting a block happen atomically even
 * when replicas count the same IP at once. Redis's clock, not the replicas', sets the window.
 */
const RECORD_FAILURE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then
  redis.call('PUBLISH', ARGV[5], '0 0 ' .. left .. ' ' .. ARGV[6])
  return {0, left, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
local v = redis.call('INCR', KEYS[3])
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], n, 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[5], v .. ' 0 ' .. ARGV[3] .. ' ' .. ARGV[6])
  return {n, tonumber(ARGV[3]), 1, v}
end
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PUBLISH', ARGV[5], v .. ' ' .. ARGV[1] .. ' 0 ' .. ARGV[6])
return {n, 0, 0, v}
`;

/** Forgets the failures (a running block stays); publishes only when there were some. */
const RESET_FAILURES = `
if redis.call('DEL', KEYS[1]) == 0 then return {0, 0} end
local v = redis.call('INCR', KEYS[3])
local left = math.max(0, redis.call('PTTL', KEYS[2]))
redis.call('PUBLISH', ARGV[1], v .. ' 0 ' .. left .. ' ' .. ARGV[2])
return {v, left}
`;

/** Lifts a block and forgets the failures; answers whether a block was running. */
const UNBLOCK = `
local blocks = redis.call('DEL', KEYS[2])
if blocks + redis.call('DEL', KEYS[1]) == 0 then return {0, 0} end
local v = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[1], v .. ' 0 0 ' .. ARGV[2])
return {blocks, v}
`;

/** A script changing one key's state: answers two numbers (see the script). */
type KeyChangeScript = (
  attempts: string,
  block: string,
  version: string,
  channel: string,
  key: string,
) => Promise<[number, number]>;

type ScriptedRedis = Redis & {
  blockerRecordFailure(
    attempts: string,
    block: string,
    version: string,
    ...args: string[]
  ): Promise<[number, number, number, number]>;
  blockerResetFailures: KeyChangeScript;
  blockerUnblock: KeyChangeScript;
};

/** Heartbeat of the change feed; a silently dropped connection is noticed within ~2 ticks. */
const TICK_MS = 1_000;
const PING_TIMEOUT_MS = 2_000;
const SWEEP_MS = 10_000;
/** After a failed resync on a live connection; a reconnect resyncs at once. */
const RETRY_MS = 5_000;
/** After the view outgrew its bound: answers come from Redis meanwhile. */
const OVERFLOW_RETRY_MS = 60_000;
const KEY_NAME = /^blocker:(attempts|block):(.+)$/s;
const MESSAGE = /^(\d+) (\d+) (\d+) (.+)$/s;

export interface RedisCounterStoreOptions {
  /** Entries the local view may hold before it stops answering (see CounterView). */
  maxViewEntries?: number;
}

/**
 * Counters in Redis, shared by every replica; Redis is the authority for counting and blocking.
 * Checks for keys with no state — almost all of them — are answered from a local view fed by
 * the changes channel instead of a round trip. The view is trusted only while in sync: its
 * subscriber is subscribed and a resync (SCAN) has completed since it (re)subscribed. A change
 * made on another replica is seen here once its message arrives (pub/sub delivery time).
 */
export class RedisCounterStore implements CounterStore {
  private readonly logger = new Logger('Blocker');
  private readonly redis: ScriptedRedis;
  /** ioredis prefixes keys, not channel names nor SCAN patterns: those carry it explicitly. */
  private readonly prefix: string;
  private readonly channel: string;
  private readonly view: CounterView;
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Bumped whenever the view stops or restarts following: older resyncs and pings give up. */
  private round = 0;
  /** Messages are applied (subscribing or subscribed, the view cleared before). */
  private following = false;
  private synced = false;
  private retryAt = 0;
  private pingRound = -1;
  private nextSweep = 0;
  private readonly warning = onceEvery(10_000);

  constructor(redis: Redis, options: RedisCounterStoreOptions = {}) {
    const scripted = redis as unknown as Partial<ScriptedRedis>;
    if (!scripted.blockerRecordFailure) {
      redis.defineCommand('blockerRecordFailure', { numberOfKeys: 3, lua: RECORD_FAILURE });
      redis.defineCommand('blockerResetFailures', { numberOfKeys: 3, lua: RESET_FAILURES });
      redis.defineCommand('blockerUnblock', { numberOfKeys: 3, lua: UNBLOCK });
    }
    this.redis = redis as unknown as ScriptedRedis;
    this.prefix = redis.options.keyPrefix ?? '';
    this.channel = `${this.prefix}blocker:changes`;
    this.view = new CounterView(options.maxViewEntries);
  }

  private attemptsKey = (key: string) => `blocker:attempts:${key}`;
  private blockKey = (key: string) => `blocker:block:${key}`;

  /** Whether clean keys are answered locally right now (for tests and diagnostics). */
  get inSync(): boolean {
    return this.synced;
  }

  async recordFailure(key: string, limits: BlockLimits): Promise<FailureOutcome> {
    this.start();
    const windowMs = limits.window_seconds * 1000;
    const [attempts, blockedForMs, started, version] = await this.redis.blockerRecordFailure(
      this.attemptsKey(key),
      this.blockKey(key),
      VERSION_KEY,
      String(windowMs),
      String(limits.max_attempts),
      String(limits.block_seconds * 1000),
      // Distinct member per failure: two failures in one millisecond are two failures.
      randomBytes(8).toString('hex'),
      this.channel,
      key,
    );
    // Known here before the promise resolves: this replica's next check never waits for the echo.
    if (version > 0) this.note(key, version, started ? 0 : windowMs, blockedForMs);
    else this.noteRunningBlock(key, blockedForMs);
    return { attempts, blockedForMs, blockStarted: started === 1 };
  }

  async blockedFor(keys: string[]): Promise<number[]> {
    if (this.answersClean(keys, undefined)) return keys.map(() => 0);
    if (!keys.length) return [];
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.pttl(this.blockKey(k));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, ms]) => {
      if (err) throw err;
      return Math.max(0, Number(ms));
    });
  }

  knownStatus(keys: string[], failuresOf: string | undefined): CounterStatus | undefined {
    return this.answersClean(keys, failuresOf)
      ? { left: keys.map(() => 0), failures: false }
      : undefined;
  }

  async status(keys: string[], failuresOf: string | undefined): Promise<CounterStatus> {
    const known = this.knownStatus(keys, failuresOf);
    if (known) return known;
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
    this.start();
    const [version, blockMs] = await this.redis.blockerResetFailures(
      this.attemptsKey(key),
      this.blockKey(key),
      VERSION_KEY,
      this.channel,
      key,
    );
    if (version > 0) this.note(key, version, 0, blockMs);
  }

  async unblock(key: string): Promise<boolean> {
    this.start();
    const [blocks, version] = await this.redis.blockerUnblock(
      this.attemptsKey(key),
      this.blockKey(key),
      VERSION_KEY,
      this.channel,
      key,
    );
    if (version > 0) this.note(key, version, 0, 0);
    return blocks > 0;
  }

  /** Stops following the changes channel; the store keeps working, every check asks Redis. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopFollowing();
    clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  /** True only when the view is in sync and none of the keys may have the state asked about. */
  private answersClean(keys: string[], failuresOf: string | undefined): boolean {
    this.start();
    if (!this.synced) return false;
    const now = Date.now();
    for (const k of keys) if (this.view.mayBeBlocked(k, now)) return false;
    return failuresOf === undefined || !this.view.mayHaveFailures(failuresOf, now);
  }

  private note(key: string, version: number, failuresMs: number, blockMs: number) {
    if (this.following && !this.view.apply(key, version, failuresMs, blockMs, Date.now()))
      this.overflow();
  }

  private noteRunningBlock(key: string, blockMs: number) {
    const now = Date.now();
    if (this.following && blockMs > 0 && !this.view.raise(key, 0, 0, now + blockMs, now))
      this.overflow();
  }

  /**
   * The view starts with the store's first use, so an application that never checks opens no
   * extra connection. The subscriber is a second connection: a subscribed one runs nothing else.
   */
  private start() {
    if (this.subscriber || this.closed) return;
    const sub = this.redis.duplicate({
      lazyConnect: true,
      // Resubscribing alone is not enough: every (re)subscription is followed by a resync.
      autoResubscribe: false,
      commandTimeout: PING_TIMEOUT_MS,
      connectionName: `${this.redis.options.connectionName ?? 'idp'}:blocker-view`,
    });
    this.subscriber = sub;
    sub.on('ready', () => void this.follow());
    // Messages may have been missed from the moment the connection is in doubt.
    for (const event of ['close', 'end', 'reconnecting']) sub.on(event, () => this.stopFollowing());
    sub.on('error', (err: Error) => this.stopFollowing(err));
    sub.on('message', (channel: string, message: string) => this.receive(channel, message));
    this.timer = setInterval(() => this.tick(), TICK_MS).unref();
    // A Redis that is down must not fail anything: ioredis keeps retrying, errors come as events.
    sub.connect().catch(() => {});
  }

  private async follow() {
    if (this.closed) return;
    const round = ++this.round;
    // Cleared before subscribing: every message from here on is applied, the SCAN adds the rest.
    this.view.clear();
    this.following = true;
    this.synced = false;
    try {
      await this.subscriber!.subscribe(this.channel);
      if (round !== this.round) return;
      await this.resync(round);
      if (round === this.round) this.synced = true;
    } catch (err) {
      if (round === this.round) this.stopFollowing(err, RETRY_MS);
    }
  }

  /** Reads every blocker key with its time to live, after the subscription is in place. */
  private async resync(round: number) {
    // The newest change before any key is read: the reads include it and all older ones.
    const version = Number((await this.redis.get(VERSION_KEY)) ?? 0);
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}blocker:*`;
    let cursor = '0';
    do {
      const [next, names] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (round !== this.round) return;
      cursor = next;
      const found: Array<[string, string]> = [];
      const pipeline = this.redis.pipeline();
      for (const name of names) {
        const m = name.startsWith(this.prefix) && KEY_NAME.exec(name.slice(this.prefix.length));
        if (!m) continue;
        found.push([m[1], m[2]]);
        pipeline.pttl(`blocker:${m[1]}:${m[2]}`);
      }
      if (!found.length) continue;
      const results = (await pipeline.exec()) ?? [];
      if (round !== this.round) return;
      const now = Date.now();
      for (let i = 0; i < found.length; i++) {
        const [err, ms] = results[i];
        if (err) throw err;
        const left = Number(ms);
        if (left === -2) continue; // gone since the SCAN: its change was published
        const until = left < 0 ? Infinity : now + left;
        const [kind, key] = found[i];
        const ok =
          kind === 'block'
            ? this.view.raise(key, version, 0, until, now)
            : this.view.raise(key, version, until, 0, now);
        if (!ok) return this.overflow();
      }
    } while (cursor !== '0');
  }

  private receive(channel: string, message: string) {
    if (!this.following || channel !== this.channel) return;
    const m = MESSAGE.exec(message);
    // A change the view cannot read is a change it missed.
    if (!m) return this.stopFollowing(new Error(`unreadable blocker change: ${message}`));
    const [version, failuresMs, blockMs] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (version > 0) this.note(m[4], version, failuresMs, blockMs);
    else this.noteRunningBlock(m[4], blockMs);
  }

  /** Out of sync: every check goes to Redis until the next (re)subscription and resync. */
  private stopFollowing(err?: unknown, retryInMs = 0) {
    this.round++;
    this.following = false;
    this.synced = false;
    this.view.clear();
    this.retryAt = Date.now() + retryInMs;
    if (err && !this.closed) this.warn(err);
  }

  /** Too many keys with state to hold: answer from Redis, try again later. */
  private overflow() {
    this.stopFollowing(undefined, OVERFLOW_RETRY_MS);
    this.warn(new Error('blocker local view is full'));
  }

  private tick() {
    const now = Date.now();
    if (now >= this.nextSweep) {
      this.view.sweep(now);
      this.nextSweep = now + SWEEP_MS;
    }
    const sub = this.subscriber;
    if (this.closed || !sub || sub.status !== 'ready') return;
    if (!this.following) {
      // The connection is up but the view gave up (resync error, overflow): try again.
      if (now >= this.retryAt) void this.follow();
      return;
    }
    if (!this.synced || this.pingRound === this.round) return;
    // A dropped connection without a FIN (idle NAT, failover) would otherwise look subscribed.
    const round = (this.pingRound = this.round);
    sub.ping().then(
      () => {
        if (this.pingRound === round) this.pingRound = -1;
      },
      (err: unknown) => {
        if (round !== this.round) return;
        this.stopFollowing(err);
        sub.disconnect(true);
      },
    );
  }

  private warn(err: unknown) {
    if (this.warning())
      this.logger.warn({ err }, 'blocker local view out of sync: checks go to Redis');
  }
}
