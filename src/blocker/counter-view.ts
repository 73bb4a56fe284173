interface ViewEntry {
  /** The newest change applied (see VERSION_KEY); older ones arriving late are ignored. */
  version: number;
  /** Local ms until which failures may be counted in Redis; 0: none. */
  failuresUntil: number;
  /** Local ms until which a block may run in Redis; 0: none. */
  blockedUntil: number;
}

/**
 * One replica's picture of which keys may have state in Redis. It is only ever used to answer
 * "nothing here", so an entry may overstate (its local times end after Redis's expiry, since
 * they start when the news arrives), but a key with state must never be missing. Hence no
 * eviction: past `maxEntries` an insert is refused and the caller stops trusting the view.
 */
export class CounterView {
  private readonly entries = new Map<string, ViewEntry>();

  constructor(private readonly maxEntries = 200_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * A change in Redis's order, carrying the key's whole state. False: the view is full and
   * could not remember it.
   */
  apply(key: string, version: number, failuresMs: number, blockMs: number, now: number): boolean {
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.version >= version) return true;
      entry.version = version;
      entry.failuresUntil = failuresMs > 0 ? now + failuresMs : 0;
      entry.blockedUntil = blockMs > 0 ? now + blockMs : 0;
      return true;
    }
    return this.insert(
      key,
      version,
      failuresMs > 0 ? now + failuresMs : 0,
      blockMs > 0 ? now + blockMs : 0,
      now,
    );
  }

  /**
   * State read outside the order of changes (a resync, a block seen running): it only adds,
   * and `version` is the newest change the reading is known to include.
   */
  raise(key: string, version: number, failuresUntil: number, blockedUntil: number, now: number) {
    const entry = this.entries.get(key);
    if (!entry) return this.insert(key, version, failuresUntil, blockedUntil, now);
    entry.version = Math.max(entry.version, version);
    entry.failuresUntil = Math.max(entry.failuresUntil, failuresUntil);
    entry.blockedUntil = Math.max(entry.blockedUntil, blockedUntil);
    return true;
  }

  private insert(
    key: string,
    version: number,
    failuresUntil: number,
    blockedUntil: number,
    now: number,
  ): boolean {
    // Nothing to remember: a late, older change can then only add state (safe), never hide it.
    if (failuresUntil <= now && blockedUntil <= now) return true;
    if (this.entries.size >= this.maxEntries) return false;
    this.entries.set(key, { version, failuresUntil, blockedUntil });
    return true;
  }

  mayBeBlocked(key: string, now: number): boolean {
    return (this.entries.get(key)?.blockedUntil ?? 0) > now;
  }

  mayHaveFailures(key: string, now: number): boolean {
    return (this.entries.get(key)?.failuresUntil ?? 0) > now;
  }

  /** Drops entries whose state has expired in Redis too. */
  sweep(now: number) {
    for (const [key, e] of this.entries)
      if (e.failuresUntil <= now && e.blockedUntil <= now) this.entries.delete(key);
  }

  clear() {
    this.entries.clear();
  }
}
