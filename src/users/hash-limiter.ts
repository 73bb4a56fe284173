/**
 * How many bcrypt operations run at once, and whose go first (decision 0016).
 *
 * bcrypt runs on libuv's thread pool, which the whole process shares. Unbounded, one SCIM Bulk
 * of 1,000 passwords queues 1,000 hashes there and every sign-in of every tenant waits behind
 * them. Here at most `concurrency` operations run; two queues wait for a slot:
 * - `interactive` (sign-in checks, a user's own password change) always goes first;
 * - `bulk` (provisioning) never takes the last slot (when there are two or more), so a sign-in
 *   waits for at most one running operation, and each tenant holds at most `tenantConcurrency`
 *   slots, served round-robin, so one tenant's import neither starves another's nor fills the pool.
 */
export type HashPriority = 'interactive' | 'bulk';

export interface HashLimiterState {
  inFlight: number;
  /** The most operations that ever ran at once (for /metrics and tests). */
  peak: number;
  waitingInteractive: number;
  waitingBulk: number;
}

export class HashLimiter {
  private inFlight = 0;
  private bulkInFlight = 0;
  private peak = 0;
  private readonly perTenant = new Map<string, number>();
  private readonly interactive: Array<() => void> = [];
  /** Per tenant, in turn order: the tenant served last moves to the back. */
  private readonly bulk = new Map<string, Array<() => void>>();
  private waitingBulk = 0;
  private readonly bulkMax: number;

  constructor(
    readonly concurrency: number,
    readonly tenantConcurrency: number,
    private readonly onChange: (state: HashLimiterState) => void = () => {},
  ) {
    this.bulkMax = concurrency > 1 ? concurrency - 1 : 1;
  }

  state(): HashLimiterState {
    return {
      inFlight: this.inFlight,
      peak: this.peak,
      waitingInteractive: this.interactive.length,
      waitingBulk: this.waitingBulk,
    };
  }

  async run<T>(priority: HashPriority, tenantId: string, task: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      if (priority === 'interactive') this.interactive.push(start);
      else {
        const queue = this.bulk.get(tenantId);
        if (queue) queue.push(start);
        else this.bulk.set(tenantId, [start]);
        this.waitingBulk++;
      }
      this.pump();
    });
    try {
      return await task();
    } finally {
      this.inFlight--;
      if (priority === 'bulk') {
        this.bulkInFlight--;
        const held = this.perTenant.get(tenantId)! - 1;
        if (held) this.perTenant.set(tenantId, held);
        else this.perTenant.delete(tenantId);
      }
      this.pump();
    }
  }

  /** Starts waiting operations while slots are free; `start` callbacks run synchronously. */
  private pump() {
    while (this.inFlight < this.concurrency) {
      const next = this.interactive.shift() ?? this.nextBulk();
      if (!next) break;
      this.inFlight++;
      this.peak = Math.max(this.peak, this.inFlight);
      next();
    }
    this.onChange(this.state());
  }

  private nextBulk(): (() => void) | undefined {
    if (this.bulkInFlight >= this.bulkMax) return undefined;
    for (const [tenantId, queue] of this.bulk) {
      const held = this.perTenant.get(tenantId) ?? 0;
      if (held >= this.tenantConcurrency) continue;
      const start = queue.shift()!;
      this.bulk.delete(tenantId);
      if (queue.length) this.bulk.set(tenantId, queue);
      this.perTenant.set(tenantId, held + 1);
      this.bulkInFlight++;
      this.waitingBulk--;
      return start;
    }
    return undefined;
  }
}
