import { HashLimiter } from './hash-limiter.js';

/** A task that runs until released, recording that it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(name);
      await done;
    },
    release,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('HashLimiter', () => {
  it('never runs more than its bound, keeps a slot for sign-ins and serves them first', async () => {
    const limiter = new HashLimiter(3, 3);
    const log: string[] = [];
    const bulk = Array.from({ length: 6 }, (_, i) => gate(log, `bulk${i}`));
    const runs = bulk.map((g) => limiter.run('bulk', 't1', g.task));
    await tick();
    // Bulk work never takes the last slot.
    expect(log).toEqual(['bulk0', 'bulk1']);
    const signIn = gate(log, 'sign-in');
    const signInRun = limiter.run('interactive', 't1', signIn.task);
    await tick();
    expect(log).toEqual(['bulk0', 'bulk1', 'sign-in']);
    expect(limiter.state()).toMatchObject({ inFlight: 3, waitingBulk: 4 });
    // A second sign-in waits for a slot, and gets it before the queued bulk work.
    const second = gate(log, 'sign-in-2');
    const secondRun = limiter.run('interactive', 't1', second.task);
    bulk[0].release();
    await tick();
    expect(log.at(-1)).toBe('sign-in-2');
    signIn.release();
    second.release();
    for (const g of bulk) g.release();
    await Promise.all([...runs, signInRun, secondRun]);
    expect(limiter.state()).toEqual({
      inFlight: 0,
      peak: 3,
      waitingInteractive: 0,
      waitingBulk: 0,
    });
  });

  it('holds each tenant to its share and takes tenants in turn', async () => {
    const limiter = new HashLimiter(4, 1);
    const log: string[] = [];
    const a = Array.from({ length: 3 }, (_, i) => gate(log, `a${i}`));
    const b = Array.from({ length: 3 }, (_, i) => gate(log, `b${i}`));
    const runs = [
      ...a.map((g) => limiter.run('bulk', 'a', g.task)),
      ...b.map((g) => limiter.run('bulk', 'b', g.task)),
    ];
    await tick();
    expect(log).toEqual(['a0', 'b0']);
    a[0].release();
    await tick();
    expect(log).toEqual(['a0', 'b0', 'a1']);
    for (const g of [...a, ...b]) g.release();
    await Promise.all(runs);
    expect(log.toSorted()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    expect(limiter.state().peak).toBe(2);
  });

  it('releases the slot of a task that fails', async () => {
    const limiter = new HashLimiter(1, 1);
    await expect(limiter.run('bulk', 't', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(limiter.run('interactive', 't', async () => 'ok')).resolves.toBe('ok');
    expect(limiter.state().inFlight).toBe(0);
  });
});
