import { AnalyticsService } from '../src/analytics/analytics.service.js';
import { AuditService, type AuditEventInput } from '../src/audit/audit.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const T = (iso: string) => new Date(iso);

describe('login analytics', () => {
  let t: TestApp;
  let audit: AuditService;
  let tenantId: string;
  let key: string;

  const history: Array<Omit<AuditEventInput, 'tenantId'>> = [
    {
      type: 'login.success',
      subjectId: 'alice',
      method: 'password',
      occurredAt: T('2025-03-10T09:00:10Z'),
    },
    { type: 'password.changed', subjectId: 'alice', occurredAt: T('2025-03-10T09:00:20Z') },
    {
      type: 'login.success',
      subjectId: 'alice',
      method: 'password',
      occurredAt: T('2025-03-10T09:00:50Z'),
    },
    {
      type: 'login.failure',
      subjectId: 'bob',
      method: 'password',
      occurredAt: T('2025-03-10T09:01:05Z'),
    },
    {
      type: 'login.success',
      subjectId: 'bob',
      method: 'totp',
      occurredAt: T('2025-03-10T09:30:00Z'),
    },
    {
      type: 'login.success',
      subjectId: 'alice',
      method: 'passkey',
      occurredAt: T('2025-03-10T10:15:00Z'),
    },
    { type: 'login.failure', method: 'password', occurredAt: T('2025-03-10T10:15:30Z') },
    {
      type: 'login.success',
      subjectId: 'carol',
      method: 'password',
      occurredAt: T('2025-03-11T00:00:00Z'),
    },
    {
      type: 'login.failure',
      subjectId: 'carol',
      method: 'pin',
      occurredAt: T('2025-03-11T23:59:59.999Z'),
    },
    {
      type: 'login.success',
      subjectId: 'alice',
      method: 'password',
      occurredAt: T('2025-04-02T12:00:00Z'),
    },
  ];

  beforeAll(async () => {
    t = await startTestApp();
    audit = t.app.get(AuditService);
    ({ tenantId, key } = await newTenant(t, ['analytics:read']));
    const other = await newTenant(t);
    // Several flushes: a user seen in an earlier batch must not be counted again.
    for (const [i, e] of history.entries()) {
      audit.record({ tenantId, ...e });
      audit.record({ tenantId: other.tenantId, ...e, subjectId: `x-${i}` });
      if (i % 3 === 0) await audit.flush();
    }
    await audit.flush();
  });
  afterAll(() => t.close());

  const get = async (query: string) => {
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}/analytics/logins?${query}`, { key });
    expect([query, r.status]).toEqual([query, 200]);
    return r.body;
  };

  it('daily buckets match the seeded history exactly', async () => {
    const body = await get('start=2025-03-10T00:00:00Z&end=2025-03-12T00:00:00Z&resolution=day');
    expect(body).toEqual({
      resolution: 'day',
      start: '2025-03-10T00:00:00.000Z',
      end: '2025-03-12T00:00:00.000Z',
      buckets: [
        {
          start: '2025-03-10T00:00:00.000Z',
          successes: 4,
          failures: 2,
          unique_users: 2,
          by_method: {
            password: { successes: 2, failures: 2 },
            totp: { successes: 1, failures: 0 },
            passkey: { successes: 1, failures: 0 },
          },
        },
        {
          start: '2025-03-11T00:00:00.000Z',
          successes: 1,
          failures: 1,
          unique_users: 1,
          by_method: {
            password: { successes: 1, failures: 0 },
            pin: { successes: 0, failures: 1 },
          },
        },
      ],
      totals: {
        successes: 5,
        failures: 3,
        by_method: {
          password: { successes: 3, failures: 2 },
          totp: { successes: 1, failures: 0 },
          passkey: { successes: 1, failures: 0 },
          pin: { successes: 0, failures: 1 },
        },
      },
      active_users: {
        daily: [
          { date: '2025-03-10', users: 2 },
          { date: '2025-03-11', users: 1 },
        ],
        monthly: [{ month: '2025-03', users: 3 }],
      },
    });
  });

  it('hourly and per-minute buckets, zero-filled, with distinct users per bucket', async () => {
    const hours = await get('start=2025-03-10T09:00:00Z&end=2025-03-10T12:00:00Z&resolution=hour');
    expect(
      hours.buckets.map((b: Record<string, unknown>) => [
        b.start,
        b.successes,
        b.failures,
        b.unique_users,
      ]),
    ).toEqual([
      ['2025-03-10T09:00:00.000Z', 3, 1, 2],
      ['2025-03-10T10:00:00.000Z', 1, 1, 1],
      ['2025-03-10T11:00:00.000Z', 0, 0, 0],
    ]);
    expect(hours.buckets[1].by_method).toEqual({
      passkey: { successes: 1, failures: 0 },
      password: { successes: 0, failures: 1 },
    });
    expect(hours.active_users.daily).toEqual([{ date: '2025-03-10', users: 2 }]);

    // Unaligned bounds are widened to whole buckets.
    const minutes = await get(
      'start=2025-03-10T09:00:30Z&end=2025-03-10T09:01:30Z&resolution=minute',
    );
    expect(minutes.start).toBe('2025-03-10T09:00:00.000Z');
    expect(minutes.end).toBe('2025-03-10T09:02:00.000Z');
    expect(
      minutes.buckets.map((b: Record<string, unknown>) => [
        b.successes,
        b.failures,
        b.unique_users,
      ]),
    ).toEqual([
      [2, 0, 1],
      [0, 1, 0],
    ]);
  });

  it('monthly active users over a longer range', async () => {
    const body = await get('start=2025-03-01T00:00:00Z&end=2025-05-01T00:00:00Z&resolution=day');
    expect(body.buckets).toHaveLength(61);
    expect(body.totals).toMatchObject({ successes: 6, failures: 3 });
    expect(body.active_users.monthly).toEqual([
      { month: '2025-03', users: 3 },
      { month: '2025-04', users: 1 },
    ]);
    expect(body.active_users.daily.filter((d: { users: number }) => d.users > 0)).toEqual([
      { date: '2025-03-10', users: 2 },
      { date: '2025-03-11', users: 1 },
      { date: '2025-04-02', users: 1 },
    ]);
  });

  it('a rebuild from the audit log gives the same figures as the incremental rollups', async () => {
    const query = 'start=2025-03-01T00:00:00Z&end=2025-05-01T00:00:00Z&resolution=hour';
    const before = await get(query);
    await t.app.get(AnalyticsService).rebuild(tenantId);
    expect(await get(query)).toEqual(before);
    expect(
      await get('start=2025-03-10T00:00:00Z&end=2025-03-12T00:00:00Z&resolution=day'),
    ).toMatchObject({
      buckets: [
        { successes: 4, unique_users: 2 },
        { successes: 1, unique_users: 1 },
      ],
    });
  });

  it('refuses bad ranges and resolutions with 400, and callers without analytics:read', async () => {
    const base = `/api/v1/tenants/${tenantId}/analytics/logins`;
    for (const q of [
      'resolution=week',
      'start=yesterday',
      'start=2025-03-12T00:00:00Z&end=2025-03-10T00:00:00Z',
      'start=2025-03-10T00:00:00Z&end=2025-03-10T00:00:00Z',
      // a year of minutes is 525,600 buckets
      'start=2025-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&resolution=minute',
      'start=1900-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&resolution=hour',
      'extra=1',
    ]) {
      const r = await t.http('GET', `${base}?${q}`, { key });
      expect([q, r.status]).toEqual([q, 400]);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const other = await newTenant(t, ['audit:read']);
    expect(
      (
        await t.http('GET', `/api/v1/tenants/${other.tenantId}/analytics/logins`, {
          key: other.key,
        })
      ).status,
    ).toBe(403);
    // defaults: the last 30 days by day
    const def = await get('');
    expect(def.resolution).toBe('day');
    expect(def.buckets.length).toBe(31);
  });
});
