import { DurableBlocks, type BlockRow, type BlockSource } from './durable-blocks.js';
import { subjectsOf } from './subjects.js';

/** A table of running blocks, counting the reads a check costs. */
function table(rows: BlockRow[]) {
  const reads = { running: 0, find: 0 };
  const source: BlockSource = {
    async running(_scope, limit) {
      reads.running++;
      return rows.filter((r) => r.blocked_until.getTime() > Date.now()).slice(0, limit);
    },
    async find(_scope, subjects) {
      reads.find++;
      return rows.filter(
        (r) =>
          r.blocked_until.getTime() > Date.now() &&
          subjects.some((s) => s.kind === r.kind && s.subject === r.subject),
      );
    },
  };
  return { rows, reads, source };
}

const later = (ms: number) => new Date(Date.now() + ms);

const who = (username: string) => subjectsOf('t1', { ip: '192.0.2.1', username });

describe('DurableBlocks', () => {
  it('answers clean subjects from one snapshot, and confirms a block with a read', async () => {
    const t = table([{ kind: 'user', subject: 'bob', blocked_until: later(60_000) }]);
    const blocks = new DurableBlocks(t.source);
    expect(blocks.knownClean('t1', who('alice'))).toBeUndefined(); // nothing loaded yet
    expect(await blocks.left('t1', who('alice'))).toEqual([0, 0]);
    expect(blocks.knownClean('t1', who('alice'))).toEqual([0, 0]);
    expect(t.reads).toEqual({ running: 1, find: 0 });

    expect(blocks.knownClean('t1', who('bob'))).toBeUndefined();
    const [ip, bob] = await blocks.left('t1', who('bob'));
    expect(ip).toBe(0);
    expect(bob).toBeGreaterThan(59_000);
    expect(t.reads).toEqual({ running: 1, find: 1 });
  });

  it('never enforces a block lifted behind its back, and sees a new one after a signal', async () => {
    const t = table([{ kind: 'user', subject: 'bob', blocked_until: later(60_000) }]);
    const blocks = new DurableBlocks(t.source);
    expect((await blocks.left('t1', who('bob')))[1]).toBeGreaterThan(0);
    t.rows.length = 0; // lifted on another replica, no signal here
    expect(await blocks.left('t1', who('bob'))).toEqual([0, 0]);
    expect(blocks.knownClean('t1', who('bob'))).toEqual([0, 0]);

    t.rows.push({ kind: 'user', subject: 'carol', blocked_until: later(60_000) });
    expect(blocks.knownClean('t1', who('carol'))).toEqual([0, 0]); // not heard of yet
    blocks.invalidate('t1');
    expect(blocks.knownClean('t1', who('carol'))).toBeUndefined();
    expect((await blocks.left('t1', who('carol')))[1]).toBeGreaterThan(0);
  });

  it('expires a snapshot after its lifetime (a lost signal) and asks when told to', async () => {
    const t = table([]);
    const blocks = new DurableBlocks(t.source, { ttlMs: 30 });
    await blocks.left('t1', who('dave'));
    t.rows.push({ kind: 'user', subject: 'dave', blocked_until: later(60_000) });
    expect((await blocks.left('t1', who('dave'), true))[1]).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 40));
    expect(blocks.knownClean('t1', who('dave'))).toBeUndefined();
  });

  it('past its bound a snapshot is incomplete: every check reads its subjects', async () => {
    const t = table(
      Array.from({ length: 5 }, (_, i) => ({
        kind: 'user',
        subject: `u${i}`,
        blocked_until: later(60_000),
      })),
    );
    const blocks = new DurableBlocks(t.source, { maxPerScope: 3 });
    expect(await blocks.left('t1', who('erin'))).toEqual([0, 0]);
    expect(blocks.knownClean('t1', who('erin'))).toBeUndefined();
    expect((await blocks.left('t1', who('u4')))[1]).toBeGreaterThan(0);
  });

  it('a load that an invalidation overtook is not kept', async () => {
    const t = table([]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: BlockSource = {
      running: async (scope, limit) => (await gate, t.source.running(scope, limit)),
      find: t.source.find,
    };
    const blocks = new DurableBlocks(slow);
    const pending = blocks.left('t1', who('fred'));
    blocks.invalidate('t1');
    release();
    await pending;
    expect(blocks.knownClean('t1', who('fred'))).toBeUndefined();
  });
});
