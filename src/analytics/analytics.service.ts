import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { crossTenant, InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { badRequest } from '../common/problem.js';
import type {
  LoginAnalyticsDto,
  LoginAnalyticsQuery,
  LoginBucketDto,
  MethodCountsDto,
  Resolution,
} from './dto/analytics.dto.js';
import {
  LoginActiveUsersEntity,
  LoginRollupEntity,
  LoginUserSeenEntity,
  type ActiveGranularity,
  type RollupGranularity,
} from './login-rollup.entity.js';

export const LOGIN_SUCCESS = 'login.success';
export const LOGIN_FAILURE = 'login.failure';
export const MAX_BUCKETS = 10_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEP: Record<Resolution, number> = { minute: MINUTE, hour: HOUR, day: DAY };
const DEFAULT_SPAN: Record<Resolution, number> = {
  minute: 60 * MINUTE,
  hour: 48 * HOUR,
  day: 30 * DAY,
};

/** UTC bucket start of `ms` (every unit here is a fixed length except the month). */
export function bucketStart(ms: number, unit: Resolution | 'month'): number {
  if (unit === 'month') {
    const d = new Date(ms);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  return Math.floor(ms / STEP[unit]) * STEP[unit];
}

const nextMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

const ROLLUP_GRANULARITIES: RollupGranularity[] = ['minute', 'hour', 'day'];
const ACTIVE_GRANULARITIES: ActiveGranularity[] = ['hour', 'day', 'month'];
const TABLES = ['login_rollups', 'login_user_seen', 'login_active_users'] as const;

/**
 * Sign-in analytics from the audit log. Counts are rolled up as events are written (inside the
 * same transaction, so the two never disagree), at minute, hour and day granularity: a year at
 * daily resolution reads a few thousand rows, not a million events. Distinct users are counted
 * once per bucket with a dedup table (hour, day, month); per-minute distinct users come from the
 * log itself, which at most 10,000 minutes keeps cheap.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectTenantRepository(LoginRollupEntity)
    private readonly rollups: TenantRepository<LoginRollupEntity>,
    @InjectTenantRepository(LoginUserSeenEntity)
    private readonly seenUsers: TenantRepository<LoginUserSeenEntity>,
    @InjectTenantRepository(LoginActiveUsersEntity)
    private readonly active: TenantRepository<LoginActiveUsersEntity>,
    private readonly audit: AuditService,
  ) {
    audit.onFlush((events, m) => this.rollUp(events, m));
    audit.onPurge((tenantId, cutoff, m) => this.purge(tenantId, cutoff, m));
  }

  private async rollUp(events: AuditEventEntity[], m: EntityManager) {
    const counts = new Map<string, [number, number]>();
    const seen = new Set<string>();
    for (const e of events) {
      if (e.type !== LOGIN_SUCCESS && e.type !== LOGIN_FAILURE) continue;
      const ms = e.occurred_at.getTime();
      const success = e.type === LOGIN_SUCCESS;
      const method = e.method ?? 'unknown';
      for (const g of ROLLUP_GRANULARITIES) {
        const key = JSON.stringify([e.tenant_id, g, bucketStart(ms, g), method]);
        const c = counts.get(key) ?? [0, 0];
        c[success ? 0 : 1] += 1;
        counts.set(key, c);
      }
      if (success && e.subject_id) {
        for (const g of ACTIVE_GRANULARITIES) {
          seen.add(JSON.stringify([e.tenant_id, g, bucketStart(ms, g), e.subject_id]));
        }
      }
    }
    if (!counts.size) return;
    // Shared with other flushes, exclusive with rebuild(): a rebuild never sees half a batch.
    const tenants = [...new Set(events.map((e) => e.tenant_id))].toSorted();
    // One batch carries many tenants' rows: these statements are cross-tenant by design.
    const batch = crossTenant(m);
    await batch.sql(
      'login_rollups_lock_shared',
      `SELECT pg_advisory_xact_lock_shared(hashtext('login-rollups:' || t)) FROM unnest($1::text[]) AS t`,
      [tenants],
    );
    if (counts.size) {
      // Sorted, so two replicas flushing at once take row locks in one order (no deadlock).
      const rows = [...counts.entries()].toSorted(([a], [b]) => (a < b ? -1 : 1));
      const cols = rows.map(([k]) => JSON.parse(k) as [string, string, number, string]);
      await batch.sql(
        'login_rollups_add',
        `INSERT INTO login_rollups (tenant_id, granularity, bucket, method, successes, failures)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::bigint[])
         ON CONFLICT (tenant_id, granularity, bucket, method)
         DO UPDATE SET successes = login_rollups.successes + EXCLUDED.successes,
                       failures = login_rollups.failures + EXCLUDED.failures`,
        [
          cols.map((c) => c[0]),
          cols.map((c) => c[1]),
          cols.map((c) => new Date(c[2]).toISOString()),
          cols.map((c) => c[3]),
          rows.map(([, c]) => c[0]),
          rows.map(([, c]) => c[1]),
        ],
      );
    }
    if (seen.size) {
      const cols = [...seen]
        .toSorted()
        .map((k) => JSON.parse(k) as [string, string, number, string]);
      // Only users not yet seen in a bucket raise its figure; a concurrent flush of the same
      // user waits on the unique key and then counts nothing.
      await batch.sql(
        'login_user_seen_add',
        `WITH fresh AS (
           INSERT INTO login_user_seen (tenant_id, granularity, bucket, user_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
           ON CONFLICT DO NOTHING
           RETURNING tenant_id, granularity, bucket)
         INSERT INTO login_active_users (tenant_id, granularity, bucket, users)
         SELECT tenant_id, granularity, bucket, count(*) FROM fresh
         GROUP BY tenant_id, granularity, bucket ORDER BY tenant_id, granularity, bucket
         ON CONFLICT (tenant_id, granularity, bucket)
         DO UPDATE SET users = login_active_users.users + EXCLUDED.users`,
        [
          cols.map((c) => c[0]),
          cols.map((c) => c[1]),
          cols.map((c) => new Date(c[2]).toISOString()),
          cols.map((c) => c[3]),
        ],
      );
    }
  }

  /** The tenant repository of each rollup table (the raw statements below name the table). */
  private repoOf(table: (typeof TABLES)[number]): TenantRepository<{ tenant_id: string }> {
    if (table === 'login_rollups') return this.rollups;
    return table === 'login_user_seen' ? this.seenUsers : this.active;
  }

  private async purge(tenantId: string, cutoff: Date, m: EntityManager) {
    for (const table of TABLES) {
      await this.repoOf(table).sql(
        tenantId,
        `${table}_purge`,
        `DELETE FROM ${table} WHERE tenant_id = $1 AND bucket < $2`,
        [cutoff],
        m,
      );
    }
  }

  /**
   * Recomputes every rollup of a tenant from its audit log (backfills, imports, the benchmark
   * seed). Holds the tenant's rollup lock, so flushes wait and nothing is counted twice.
   */
  async rebuild(tenantId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await crossTenant(m).sql(
        'login_rollups_lock',
        `SELECT pg_advisory_xact_lock(hashtext('login-rollups:' || $1))`,
        [tenantId],
      );
      for (const table of TABLES) {
        await this.repoOf(table).sql(
          tenantId,
          `${table}_clear`,
          `DELETE FROM ${table} WHERE tenant_id = $1`,
          [],
          m,
        );
      }
      // Rebuilt from the audit log in the database: the events never travel to the app.
      await this.rollups.sql(
        tenantId,
        'login_rollups_rebuild',
        `INSERT INTO login_rollups (tenant_id, granularity, bucket, method, successes, failures)
         SELECT e.tenant_id, g.g, date_trunc(g.g, e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                coalesce(e.method, 'unknown'),
                count(*) FILTER (WHERE e.type = $2), count(*) FILTER (WHERE e.type = $3)
         FROM audit_events e CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS g (g)
         WHERE e.tenant_id = $1 AND e.type IN ($2, $3)
         GROUP BY 1, 2, 3, 4
         ORDER BY 1, 2, 3, 4`,
        [LOGIN_SUCCESS, LOGIN_FAILURE],
        m,
      );
      await this.seenUsers.sql(
        tenantId,
        'login_user_seen_rebuild',
        `INSERT INTO login_user_seen (tenant_id, granularity, bucket, user_id)
         SELECT DISTINCT e.tenant_id, g.g, date_trunc(g.g, e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                e.subject_id
         FROM audit_events e CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS g (g)
         WHERE e.tenant_id = $1 AND e.type = $2 AND e.subject_id IS NOT NULL`,
        [LOGIN_SUCCESS],
        m,
      );
      await this.active.sql(
        tenantId,
        'login_active_users_rebuild',
        `INSERT INTO login_active_users (tenant_id, granularity, bucket, users)
         SELECT tenant_id, granularity, bucket, count(*) FROM login_user_seen
         WHERE tenant_id = $1 GROUP BY 1, 2, 3`,
        [],
        m,
      );
    });
  }

  async logins(tenantId: string, q: LoginAnalyticsQuery): Promise<LoginAnalyticsDto> {
    const resolution = q.resolution;
    const step = STEP[resolution];
    const endMs = q.end ? new Date(q.end).getTime() : Date.now();
    const rawStart = q.start ? new Date(q.start).getTime() : endMs - DEFAULT_SPAN[resolution];
    if (!(rawStart < endMs)) {
      throw badRequest('start must be before end', [
        { field: 'start', message: 'must be before end' },
      ]);
    }
    const start = bucketStart(rawStart, resolution);
    const end = Math.ceil(endMs / step) * step;
    const count = (end - start) / step;
    if (count > MAX_BUCKETS) {
      throw badRequest(`At most ${MAX_BUCKETS} buckets per request`, [
        {
          field: 'resolution',
          message: `${count} ${resolution} buckets requested; choose a coarser resolution or a shorter range`,
        },
      ]);
    }

    const buckets: LoginBucketDto[] = [];
    for (let i = 0; i < count; i++) {
      buckets.push({
        start: new Date(start + i * step).toISOString(),
        successes: 0,
        failures: 0,
        unique_users: 0,
        by_method: {},
      });
    }
    const at = (ms: number) => buckets[Math.round((ms - start) / step)];
    const totals = { successes: 0, failures: 0, by_method: {} as Record<string, MethodCountsDto> };

    const dayStart = bucketStart(start, 'day');
    const dayEnd = Math.ceil(end / DAY) * DAY;
    const monthStart = bucketStart(start, 'month');
    const monthEnd = nextMonth(bucketStart(end - 1, 'month'));

    const [counts, uniques, daily, monthly] = await Promise.all([
      this.rollups
        .query(tenantId, 'r')
        .select([
          'extract(epoch from r.bucket)::bigint::text AS bucket',
          'r.method AS method',
          'r.successes::int AS successes',
          'r.failures::int AS failures',
        ])
        .andWhere('r.granularity = :g AND r.bucket >= :start AND r.bucket < :end', {
          g: resolution,
          start: new Date(start),
          end: new Date(end),
        })
        .getRawMany<{ bucket: string; method: string; successes: number; failures: number }>(),
      resolution === 'minute'
        ? this.audit.distinctSubjectsPerMinute(tenantId, LOGIN_SUCCESS, start, end)
        : this.activeRows(tenantId, resolution, start, end),
      this.activeRows(tenantId, 'day', dayStart, dayEnd),
      this.activeRows(tenantId, 'month', monthStart, monthEnd),
    ]);

    for (const r of counts) {
      const b = at(Number(r.bucket) * 1000);
      if (!b) continue;
      b.successes += r.successes;
      b.failures += r.failures;
      b.by_method[r.method] = { successes: r.successes, failures: r.failures };
      totals.successes += r.successes;
      totals.failures += r.failures;
      const t = (totals.by_method[r.method] ??= { successes: 0, failures: 0 });
      t.successes += r.successes;
      t.failures += r.failures;
    }
    for (const u of uniques) {
      const b = at(u.bucket);
      if (b) b.unique_users = u.users;
    }

    const dailyMap = new Map(daily.map((d) => [d.bucket, d.users]));
    const dailyOut = [];
    for (let d = dayStart; d < dayEnd; d += DAY) {
      dailyOut.push({ date: new Date(d).toISOString().slice(0, 10), users: dailyMap.get(d) ?? 0 });
    }
    const monthlyMap = new Map(monthly.map((d) => [d.bucket, d.users]));
    const monthlyOut = [];
    for (let mo = monthStart; mo < monthEnd; mo = nextMonth(mo)) {
      monthlyOut.push({
        month: new Date(mo).toISOString().slice(0, 7),
        users: monthlyMap.get(mo) ?? 0,
      });
    }

    return {
      resolution,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      buckets,
      totals,
      active_users: { daily: dailyOut, monthly: monthlyOut },
    };
  }

  private async activeRows(
    tenantId: string,
    granularity: ActiveGranularity,
    start: number,
    end: number,
  ): Promise<Array<{ bucket: number; users: number }>> {
    const rows = await this.active
      .query(tenantId, 'a')
      .select(['extract(epoch from a.bucket)::bigint::text AS bucket', 'a.users::int AS users'])
      .andWhere('a.granularity = :g AND a.bucket >= :start AND a.bucket < :end', {
        g: granularity,
        start: new Date(start),
        end: new Date(end),
      })
      .getRawMany<{ bucket: string; users: number }>();
    return rows.map((r) => ({ bucket: Number(r.bucket) * 1000, users: Number(r.users) }));
  }
}
