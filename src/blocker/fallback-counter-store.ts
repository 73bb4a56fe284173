import type { BlockLimits } from '../tenants/tenant-settings.js';
import {
  MemoryCounterStore,
  type CounterStatus,
  type CounterStore,
  type FailureOutcome,
} from './counter-store.js';

/**
 * What the blocker does with counting while Redis is unreachable (BLOCKER_REDIS_OUTAGE):
 * - `local`: count in this process's memory until Redis answers again (a block that starts is
 *   written to the database like any other, so every replica enforces it);
 * - `open`: do not count (attempts go through; blocks already recorded still hold);
 * - `closed`: refuse every credential check that would be counted (429) until Redis is back.
 */
export type OutagePolicy = 'local' | 'open' | 'closed';
export const OUTAGE_POLICIES: OutagePolicy[] = ['local', 'open', 'closed'];

/**
 * Redis counters with an in-process stand-in for outages (policy `local`): every call that
 * fails on Redis is made on memory instead. Counts are not merged back when Redis returns:
 * they are short-lived by nature, and the blocks they started are in the database.
 */
export class FallbackCounterStore implements CounterStore {
  private readonly local = new MemoryCounterStore();

  constructor(
    private readonly primary: CounterStore,
    /** Whether the primary is known to be down right now (its circuit breaker is open). */
    private readonly primaryDown: () => boolean,
  ) {}

  recordFailure(key: string, limits: BlockLimits): Promise<FailureOutcome> {
    return this.primary
      .recordFailure(key, limits)
      .catch(() => this.local.recordFailure(key, limits));
  }

  blockedFor(keys: string[]): Promise<number[]> {
    return this.primary.blockedFor(keys).catch(() => this.local.blockedFor(keys));
  }

  status(keys: string[], failuresOf: string | undefined): Promise<CounterStatus> {
    return this.primary.status(keys, failuresOf).catch(() => this.local.status(keys, failuresOf));
  }

  knownStatus(keys: string[], failuresOf: string | undefined): CounterStatus | undefined {
    const known = this.primary.knownStatus(keys, failuresOf);
    if (known || !this.primaryDown()) return known;
    return this.local.knownStatus(keys, failuresOf);
  }

  async resetFailures(key: string): Promise<void> {
    await this.local.resetFailures(key);
    await this.primary.resetFailures(key).catch(() => {});
  }

  async unblock(key: string): Promise<boolean> {
    const local = await this.local.unblock(key);
    const remote = await this.primary.unblock(key).catch(() => false);
    return local || remote;
  }
}
