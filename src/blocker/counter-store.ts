import { LRUCache } from 'lru-cache';
import type { BlockLimits } from '../tenants/tenant-settings.js';

export interface FailureOutcome {
  /** Failures in the window, including this one (the count that started a block, if one did). */
  attempts: number;
  /** Milliseconds of block left: this failure started it, or one was already running. 0: none. */
  blockedForMs: number;
  blockStarted: boolean;
}

export interface CounterStatus {
  /** Milliseconds of block left per key (0: not blocked). */
  left: number[];
  /** Whether failures are being counted for the key asked about. */
  failures: boolean;
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
  status(keys: string[], failuresOf: string | undefined): Promise<CounterStatus>;
  /**
   * The same answer without waiting, when the store already knows it (memory always; Redis when
   * its local view vouches that the keys are clean); undefined when only `status` can tell.
   */
  knownStatus(keys: string[], failuresOf: string | undefined): CounterStatus | undefined;
  /** Forgets the failures in the window (a success); a running block stays. */
  resetFailures(key: string): Promise<void>;
  /** Lifts a block and forgets the failures; answers whether a block was running. */
  unblock(key: string): Promise<boolean>;
}

export { CounterView } from './counter-view.js';
export { RedisCounterStore, type RedisCounterStoreOptions } from './redis-counter-store.js';

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

  knownStatus(keys: string[], failuresOf: string | undefined): CounterStatus {
    const now = Date.now();
    return {
      left: keys.map((k) => this.leftMs(k, now)),
      failures: failuresOf !== undefined && (this.failures.get(failuresOf)?.length ?? 0) > 0,
    };
  }

  async status(keys: string[], failuresOf: string | undefined): Promise<CounterStatus> {
    return this.knownStatus(keys, failuresOf);
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
