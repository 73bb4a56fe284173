import { jest } from '@jest/globals';
import { normalizeSubject } from './blocker.service.js';
import { MemoryCounterStore } from './counter-store.js';

const limits = { max_attempts: 3, window_seconds: 10, block_seconds: 60 };

describe('in-process counter store', () => {
  afterEach(() => jest.useRealTimers());

  it('reports block time and pending failures in one status call', async () => {
    const store = new MemoryCounterStore();
    expect(await store.status(['ip', 'user'], 'user')).toEqual({ left: [0, 0], failures: false });
    await store.recordFailure('user', limits);
    expect(await store.status(['ip', 'user'], 'user')).toEqual({ left: [0, 0], failures: true });
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
    expect(normalizeSubject('ip', '2001:DB8::1')).toBe('2001:db8::1');
  });
});
