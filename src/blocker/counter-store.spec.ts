import { jest } from '@jest/globals';
import { normalizeSubject, subjectsOf } from './subjects.js';
import { CounterView, MemoryCounterStore } from './counter-store.js';

const limits = { max_attempts: 3, window_seconds: 10, block_seconds: 60 };

describe('in-process counter store', () => {
  afterEach(() => jest.useRealTimers());

  it('reports block time and pending failures in one status call', async () => {
    const store = new MemoryCounterStore();
    expect(await store.status(['ip', 'user'], 'user')).toEqual({ left: [0, 0], failures: false });
    await store.recordFailure('user', limits);
    expect(await store.status(['ip', 'user'], 'user')).toEqual({ left: [0, 0], failures: true });
    // Memory always knows: the answer without waiting is the same.
    expect(store.knownStatus(['ip', 'user'], 'user')).toEqual({ left: [0, 0], failures: true });
    expect((await store.status(['ip'], undefined)).failures).toBe(false);
    await store.resetFailures('user');
    expect((await store.status(['user'], 'user')).failures).toBe(false);
  });

  it('counts failures in a sliding window and blocks at max_attempts', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryCounterStore();
    expect(await store.recordFailure('k', limits)).toEqual({
      attempts: 1,
      blockedForMs: 0,
      blockStarted: false,
    });
    jest.advanceTimersByTime(6_000);
    await store.recordFailure('k', limits);
    // The first failure slides out of the 10 s window: two in the window, not three.
    jest.advanceTimersByTime(5_000);
    expect(await store.recordFailure('k', limits)).toMatchObject({
      attempts: 2,
      blockStarted: false,
    });
    expect(await store.recordFailure('k', limits)).toEqual({
      attempts: 3,
      blockedForMs: 60_000,
      blockStarted: true,
    });
    expect(await store.blockedFor(['k', 'other'])).toEqual([60_000, 0]);
    // Failures during a block neither extend it nor start another.
    jest.advanceTimersByTime(30_000);
    expect(await store.recordFailure('k', limits)).toEqual({
      attempts: 0,
      blockedForMs: 30_000,
      blockStarted: false,
    });
    jest.advanceTimersByTime(30_000);
    expect(await store.blockedFor(['k'])).toEqual([0]);
    // The window restarted with the block: one failure is one.
    expect(await store.recordFailure('k', limits)).toMatchObject({ attempts: 1 });
  });

  it('reset forgets failures but keeps a block; unblock lifts both', async () => {
    const store = new MemoryCounterStore();
    await store.recordFailure('k', limits);
    await store.recordFailure('k', limits);
    await store.resetFailures('k');
    expect(await store.recordFailure('k', limits)).toMatchObject({ attempts: 1 });
    await store.recordFailure('k', limits);
    await store.recordFailure('k', limits);
    await store.resetFailures('k');
    expect((await store.blockedFor(['k']))[0]).toBeGreaterThan(0);
    expect(await store.unblock('k')).toBe(true);
    expect(await store.blockedFor(['k'])).toEqual([0]);
    expect(await store.unblock('k')).toBe(false);
  });

  it('normalizes subjects', () => {
    expect(normalizeSubject('user', '  Alice@Example.COM ')).toBe('alice@example.com');
    expect(normalizeSubject('ip', '::FFFF:192.0.2.1')).toBe('192.0.2.1');
    // IPv6 counts per /64; the /64 text is its own normal form.
    expect(normalizeSubject('ip', '2001:DB8::1')).toBe('2001:db8::/64');
    expect(normalizeSubject('ip', '2001:db8:0:7:aaaa::1')).toBe('2001:db8:0:7::/64');
    expect(normalizeSubject('ip', '2001:db8:0:7::/64')).toBe('2001:db8:0:7::/64');
    expect(normalizeSubject('ip', '2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(normalizeSubject('ip', '::1')).toBe('::/64');
    expect(normalizeSubject('ip', '::ffff:0:1.2.3.4')).toBe('::/64');
    expect(normalizeSubject('client', ' AbC ')).toBe('AbC');
  });

  it('keeps each kind in its own namespace: a typed login cannot name a client', () => {
    const typed = subjectsOf('t1', { username: 'client:app' }).map((s) => s.key);
    const client = subjectsOf('t1', { clientId: 'app' }).map((s) => s.key);
    expect(typed).toEqual(['t1:user:client:app']);
    expect(client).toEqual(['t1:client:app']);
    expect(subjectsOf('t1', { accountId: 'u1', ip: '192.0.2.1' }).map((s) => s.key)).toEqual([
      't1:ip:192.0.2.1',
      't1:account:u1',
    ]);
  });
});

describe('local view of the Redis counters', () => {
  const now = 1_000_000;

  it('applies changes in Redis order: an older one arriving late changes nothing', () => {
    const view = new CounterView();
    view.apply('k', 5, 60_000, 0, now);
    expect(view.mayHaveFailures('k', now)).toBe(true);
    expect(view.mayBeBlocked('k', now)).toBe(false);
    // The reset (version 6) came over the channel before this replica's own reply (version 5).
    view.apply('k', 6, 0, 0, now);
    view.apply('k', 5, 60_000, 0, now);
    expect(view.mayHaveFailures('k', now)).toBe(false);
    view.apply('k', 7, 0, 600_000, now);
    expect(view.mayBeBlocked('k', now)).toBe(true);
    expect(view.mayHaveFailures('k', now)).toBe(false);
  });

  it('answers per kind of state and forgets state once its time has passed', () => {
    const view = new CounterView();
    view.apply('a', 1, 10_000, 0, now);
    view.apply('b', 2, 0, 20_000, now);
    expect([view.mayBeBlocked('a', now), view.mayHaveFailures('b', now)]).toEqual([false, false]);
    expect(view.mayHaveFailures('a', now + 9_999)).toBe(true);
    expect(view.mayHaveFailures('a', now + 10_000)).toBe(false);
    view.sweep(now + 10_000);
    expect(view.size).toBe(1);
    view.sweep(now + 20_000);
    expect(view.size).toBe(0);
  });

  it('readings outside the order of changes only add state', () => {
    const view = new CounterView();
    view.apply('k', 9, 0, 0, now); // nothing to remember
    expect(view.size).toBe(0);
    view.raise('k', 3, now + 5_000, 0, now);
    view.raise('k', 0, 0, now + 1_000, now);
    view.raise('k', 0, now + 1_000, 0, now);
    expect(view.mayHaveFailures('k', now + 4_999)).toBe(true);
    expect(view.mayBeBlocked('k', now + 999)).toBe(true);
    // The resync read includes changes up to version 3: a late change 3 is not applied again...
    view.apply('k', 3, 0, 0, now);
    expect(view.mayHaveFailures('k', now)).toBe(true);
    // ...a newer one is.
    view.apply('k', 4, 0, 0, now);
    expect(view.mayHaveFailures('k', now)).toBe(false);
  });

  it('refuses to grow past its bound instead of dropping an entry', () => {
    const view = new CounterView(2);
    expect(view.apply('a', 1, 1_000, 0, now)).toBe(true);
    expect(view.raise('b', 0, 0, now + 1_000, now)).toBe(true);
    expect(view.apply('c', 2, 1_000, 0, now)).toBe(false);
    expect(view.raise('c', 0, now + 1_000, 0, now)).toBe(false);
    // Known keys still update; both earlier entries are still there.
    expect(view.apply('a', 3, 0, 1_000, now)).toBe(true);
    expect([view.mayBeBlocked('a', now), view.mayBeBlocked('b', now)]).toEqual([true, true]);
  });
});
