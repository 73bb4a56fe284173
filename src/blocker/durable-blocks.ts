import { LRUCache } from 'lru-cache';
import type { Subject } from './subjects.js';

/** A running block as the database holds it. */
export interface BlockRow {
  kind: string;
  subject: string;
  blocked_until: Date;
}

/** Reads running blocks of one scope (a tenant, or the platform): all of them, or some. */
export interface BlockSource {
  running(scope: string, limit: number): Promise<BlockRow[]>;
  find(scope: string, subjects: Subject[]): Promise<BlockRow[]>;
}

interface Snapshot {
  /** Block end (epoch ms) per subject key. */
  until: Map<string, number>;
  /** False when the scope had more running blocks than a snapshot holds. */
  complete: boolean;
  loadedAt: number;
}

export interface DurableBlocksOptions {
  /** How long a snapshot answers without news; signals drop it earlier. */
  ttlMs?: number;
  /** Running blocks one snapshot holds; past it, checks of other subjects query the database. */
  maxPerScope?: number;
  /** Scopes whose snapshot is kept. */
  maxScopes?: number;
}

/**
 * The enforced record of blocks is the database (`blocks`, `platform_blocks`); this is each
 * replica's cache of it, one snapshot of running blocks per scope, so a check costs no round
 * trip. Two rules keep it honest:
 * - "not blocked" is answered from a snapshot only while it is fresh: it is dropped on every
 *   block change (this replica's at once, other replicas' by a cluster signal) and expires
 *   after `ttlMs` in case a signal was lost (a Redis outage, say);
 * - "blocked" is always confirmed against the database (a primary-key read), so a block lifted
 *   on another replica is never enforced here after the lift, whatever the signals did.
 */
export class DurableBlocks {
  private readonly snapshots: LRUCache<string, Snapshot>;
  private readonly loading = new Map<string, { generation: number; promise: Promise<Snapshot> }>();
  /** Bumped by every invalidation: a load that started before it must not be kept. */
  private readonly generations = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxPerScope: number;

  constructor(
    private readonly source: BlockSource,
    options: DurableBlocksOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxPerScope = options.maxPerScope ?? 5_000;
    this.snapshots = new LRUCache({ max: options.maxScopes ?? 10_000 });
  }

  /**
   * Block time left per subject when the snapshot can say so without waiting: only when every
   * subject is clean (a "blocked" answer needs the database); undefined otherwise.
   */
  knownClean(scope: string, subjects: Subject[], now = Date.now()): number[] | undefined {
    const snap = this.fresh(scope, now);
    if (!snap?.complete) return undefined;
    for (const s of subjects) if ((snap.until.get(s.key) ?? 0) > now) return undefined;
    return subjects.map(() => 0);
  }

  /**
   * Milliseconds of block left per subject, as the database says. `ask`: read the subjects'
   * rows whatever the snapshot holds (another source says a block may have started).
   */
  async left(scope: string, subjects: Subject[], ask = false): Promise<number[]> {
    if (!subjects.length) return [];
    const now = Date.now();
    const clean = ask ? undefined : this.knownClean(scope, subjects, now);
    if (clean) return clean;
    const snap = ask
      ? this.fresh(scope, now)
      : (this.fresh(scope, now) ?? (await this.load(scope)));
    const maybe =
      snap?.complete && !ask
        ? subjects.filter((s) => (snap.until.get(s.key) ?? 0) > now)
        : subjects;
    if (!maybe.length) return subjects.map(() => 0);
    const rows = await this.source.find(scope, maybe);
    const found = new Map<string, number>();
    for (const r of rows) found.set(`${r.kind}:${r.subject}`, new Date(r.blocked_until).getTime());
    const at = Date.now();
    return subjects.map((s) => {
      const until = found.get(`${s.kind}:${s.subject}`) ?? 0;
      // Keep the snapshot in step: a block lifted elsewhere goes, one started elsewhere comes.
      if (until > at) snap?.until.set(s.key, until);
      else snap?.until.delete(s.key);
      return Math.max(0, until - at);
    });
  }

  /** The scope's blocks changed (here or on another replica): the next check reloads. */
  invalidate(scope: string) {
    this.generations.set(scope, (this.generations.get(scope) ?? 0) + 1);
    this.snapshots.delete(scope);
  }

  clear() {
    for (const scope of this.snapshots.keys()) this.invalidate(scope);
  }

  private fresh(scope: string, now: number): Snapshot | undefined {
    const snap = this.snapshots.get(scope);
    return snap && now - snap.loadedAt < this.ttlMs ? snap : undefined;
  }

  /** One load per scope at a time; concurrent checks share it. */
  private load(scope: string): Promise<Snapshot> {
    const generation = this.generations.get(scope) ?? 0;
    const pending = this.loading.get(scope);
    if (pending?.generation === generation) return pending.promise;
    const loadedAt = Date.now();
    const promise = this.source
      .running(scope, this.maxPerScope + 1)
      .then((rows) => {
        const until = new Map<string, number>();
        for (const r of rows.slice(0, this.maxPerScope))
          until.set(`${scope}:${r.kind}:${r.subject}`, new Date(r.blocked_until).getTime());
        const snap: Snapshot = { until, complete: rows.length <= this.maxPerScope, loadedAt };
        if ((this.generations.get(scope) ?? 0) === generation) this.snapshots.set(scope, snap);
        return snap;
      })
      .finally(() => {
        if (this.loading.get(scope)?.promise === promise) this.loading.delete(scope);
      });
    this.loading.set(scope, { generation, promise });
    return promise;
  }
}
