import { randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource, EntityManager } from 'typeorm';
import { crossTenant, InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import type { Principal } from '../auth/scopes.js';
import { badRequest } from '../common/problem.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuditEventEntity, type ActorType, type AuditOutcome } from './audit-event.entity.js';
import { AuditOutboxSubscriber, auditScope, type AuditScope } from './audit-scope.js';
import { insertAuditRows, pageOfEvents } from './audit-rows.js';
import { clip, decodeCursor, encodeCursor, safeDetails } from './audit-format.js';
import type { AuditEventDto, AuditEventPageDto, AuditQuery } from './dto/audit.dto.js';

export { dottedNameFilter, toAuditEventDto } from './audit-format.js';

/** What a module hands to `AuditService.record`. Only `tenantId` and `type` are required. */
export interface AuditEventInput {
  tenantId: string;
  /** Dotted, lowercase: `login.success`, `login.failure`, `password.changed`, `admin.user.create`... */
  type: string;
  /** Default `system`. */
  actorType?: ActorType;
  actorId?: string | null;
  subjectType?: string | null;
  subjectId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Default `failure` for a type ending in `.failure`, else `success`. */
  outcome?: AuditOutcome;
  /** The credential or channel: password, totp, recovery_code, pin, pattern, passkey, scim... */
  method?: string | null;
  /** Never secrets: this is kept for a year and exported. */
  details?: Record<string, unknown>;
  /** Default now. */
  occurredAt?: Date;
}

/** Called inside the transaction that writes a batch, so derived tables never drift from the log. */
export type AuditFlushHook = (events: AuditEventEntity[], manager: EntityManager) => Promise<void>;
/** Called for each tenant when retention removes everything older than `cutoff`. */
export type AuditPurgeHook = (
  tenantId: string,
  cutoff: Date,
  manager: EntityManager,
) => Promise<void>;

/** The request facts every event carries: the client address (proxy-aware) and user agent. */
export function auditContextOf(req: FastifyRequest): {
  ip: string | null;
  userAgent: string | null;
} {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
}

/** Who did it: a user key or user token acts as its user; other keys are the key itself. */
export function actorOf(principal: Principal | null | undefined): {
  actorType: ActorType;
  actorId: string | null;
} {
  if (!principal) return { actorType: 'system', actorId: null };
  if (principal.userId) return { actorType: 'user', actorId: principal.userId };
  return { actorType: 'api_key', actorId: principal.credentialId };
}

/** The request facts a service needs to record an event it cannot see the request of. */
export interface AuditContext {
  ip?: string | null;
  userAgent?: string | null;
  actorType?: ActorType;
  actorId?: string | null;
}

/** auditContextOf plus the caller as actor. */
export function requestContextOf(req: FastifyRequest, principal?: Principal | null): AuditContext {
  return { ...auditContextOf(req), ...actorOf(principal) };
}

const FLUSH_INTERVAL_MS = 250;
const BATCH_SIZE = 500;
/** Past this many unwritten events (database down for a while), new ones are dropped, loudly. */
const MAX_BUFFERED = 50_000;
const MAX_WRITE_ATTEMPTS = 3;
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
const PURGE_BATCH = 5_000;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The audit log. `record` never waits and never throws. Inside a change request (an AuditScope:
 * management API and SCIM changes) events are written in the change's own transaction, or before
 * the answer when it had none (see audit-scope.ts), so an acknowledged change is always audited.
 * Elsewhere (sign-ins, token events) they are buffered and written in multi-row batches off the
 * request path, so a slow database cannot slow or fail a sign-in; a crash loses at most the
 * last ~250 ms of those.
 */
@Injectable()
export class AuditService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Audit');
  private buffer: Array<{ event: AuditEventEntity; attempts: number }> = [];
  private flushing: Promise<void> | null = null;
  private timer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;
  private lastDropWarning = 0;
  private readonly flushHooks: AuditFlushHook[] = [];
  private readonly purgeHooks: AuditPurgeHook[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectTenantRepository(AuditEventEntity)
    private readonly events: TenantRepository<AuditEventEntity>,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit() {
    this.dataSource.subscribers.push(
      new AuditOutboxSubscriber(async (events, commit) => {
        await this.insertEvents(events, commit.manager);
      }),
    );
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => {
      if (this.buffer.length) void this.flush();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
    this.purgeTimer = setInterval(() => {
      this.purgeExpired().catch((err) => this.logger.warn({ err }, 'audit retention run failed'));
    }, PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  async beforeApplicationShutdown() {
    clearInterval(this.timer);
    clearInterval(this.purgeTimer);
    await this.flush();
  }

  onFlush(hook: AuditFlushHook) {
    this.flushHooks.push(hook);
  }

  onPurge(hook: AuditPurgeHook) {
    this.purgeHooks.push(hook);
  }

  /** Queues one event; returns at once. */
  /**
   * An event about a user's own credentials (TOTP, passkeys, email links): the actor is the user
   * unless the context names another (an API key, an admin), the subject is always the user.
   */
  recordForUser(
    tenantId: string,
    userId: string,
    type: string,
    ctx: AuditContext | undefined,
    method: string,
    details?: Record<string, unknown>,
  ): void {
    this.record({
      tenantId,
      type,
      actorType: ctx?.actorType ?? 'user',
      actorId: ctx?.actorType && ctx.actorType !== 'user' ? (ctx.actorId ?? null) : userId,
      subjectType: 'user',
      subjectId: userId,
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ?? null,
      method,
      details,
    });
  }

  record(input: AuditEventInput): void {
    const scope = auditScope.getStore();
    if (scope) {
      scope.pending.push(this.eventOf(input));
      return;
    }
    if (this.buffer.length >= MAX_BUFFERED) {
      this.metrics.auditEventsDropped(1);
      const now = Date.now();
      if (now - this.lastDropWarning > 10_000) {
        this.lastDropWarning = now;
        this.logger.warn({ buffered: this.buffer.length }, 'audit buffer full: dropping events');
      }
      return;
    }
    this.buffer.push({ event: this.eventOf(input), attempts: 0 });
    if (this.buffer.length >= BATCH_SIZE && !this.flushing) void this.flush();
  }

  /**
   * The events of a change request that no transaction took (the change had none, or they were
   * recorded after its commit): written now, before the answer. Falls back to the buffer when
   * the database refuses, so the request still answers.
   */
  async settle(scope: AuditScope): Promise<void> {
    const events = scope.pending.splice(0);
    if (!events.length) return;
    try {
      await auditScope.exit(() => this.dataSource.transaction((m) => this.insertEvents(events, m)));
      for (const e of events) scope.written.add(e.event_id);
    } catch (err) {
      this.logger.warn(
        { err, events: events.length },
        'could not write audit events now: buffered',
      );
      for (const event of events) this.buffer.push({ event, attempts: 0 });
    }
  }

  /** Stages an event in a scope and answers it, so the caller can complete or drop it later. */
  stage(scope: AuditScope, input: AuditEventInput): AuditEventEntity {
    const e = this.eventOf(input);
    scope.pending.push(e);
    return e;
  }

  /**
   * Sets the subject of a staged event once it is known (a created object's id): in the scope
   * if still pending, else on its row.
   */
  async complete(
    scope: AuditScope,
    e: AuditEventEntity,
    subjectId: string | null,
    details?: Record<string, unknown>,
  ) {
    const clipped = clip(subjectId, 200);
    const safe = details ? safeDetails(details) : undefined;
    const sameDetails = !safe || JSON.stringify(safe) === JSON.stringify(e.details);
    if (clipped === e.subject_id && sameDetails) return;
    e.subject_id = clipped;
    if (safe) e.details = safe;
    if (!scope.written.has(e.event_id)) return;
    // Known only once the change ran (a created id, the resulting state): set on the row.
    await this.events.sql(
      e.tenant_id,
      'audit_event_subject',
      'UPDATE audit_events SET subject_id = $3, details = $4 WHERE tenant_id = $1 AND event_id = $2',
      [e.event_id, clipped, e.details],
    );
  }

  /** A staged event whose request failed: a refused request changed nothing, so no event. */
  async drop(scope: AuditScope, e: AuditEventEntity) {
    scope.pending = scope.pending.filter((p) => p !== e);
    if (!scope.written.has(e.event_id)) return;
    await this.events.sql(
      e.tenant_id,
      'audit_event_drop',
      'DELETE FROM audit_events WHERE tenant_id = $1 AND event_id = $2',
      [e.event_id],
    );
  }

  private eventOf(input: AuditEventInput): AuditEventEntity {
    const e = new AuditEventEntity();
    e.tenant_id = input.tenantId;
    e.event_id = randomUUID();
    e.occurred_at = input.occurredAt ?? new Date();
    e.type = clip(input.type, 100)!;
    e.actor_type = input.actorType ?? 'system';
    e.actor_id = clip(input.actorId, 200);
    e.subject_type = clip(input.subjectType, 50);
    e.subject_id = clip(input.subjectId, 200);
    e.ip = clip(input.ip, 64);
    e.user_agent = clip(input.userAgent, 512);
    e.outcome = input.outcome ?? (input.type.endsWith('.failure') ? 'failure' : 'success');
    e.method = clip(input.method, 50);
    e.details = safeDetails(input.details);
    return e;
  }

  /** Writes everything buffered so far; resolves when it is in the database (or given up). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.buffer.length) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async drain() {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, BATCH_SIZE);
      try {
        await this.writeBatch(batch.map((b) => b.event));
      } catch (err) {
        if ((err as { driverError?: { code?: string } }).driverError?.code === '23503') {
          // A tenant deleted while its events waited: write the others, drop those.
          await this.writePerTenant(batch.map((b) => b.event));
          continue;
        }
        const retry = batch.filter((b) => ++b.attempts < MAX_WRITE_ATTEMPTS);
        this.metrics.auditEventsDropped(batch.length - retry.length);
        this.logger.warn({ err, events: batch.length }, 'could not write audit events');
        this.buffer.unshift(...retry);
        // The database is unwell: leave the rest for the next tick instead of spinning.
        return;
      }
    }
  }

  private async writePerTenant(events: AuditEventEntity[]) {
    const byTenant = new Map<string, AuditEventEntity[]>();
    for (const e of events) byTenant.set(e.tenant_id, [...(byTenant.get(e.tenant_id) ?? []), e]);
    for (const group of byTenant.values()) {
      await this.writeBatch(group).catch(() => this.metrics.auditEventsDropped(group.length));
    }
  }

  private async writeBatch(events: AuditEventEntity[]) {
    await auditScope.exit(() => this.dataSource.transaction((m) => this.insertEvents(events, m)));
  }

  /** Inserts events and runs the flush hooks, in `m`'s transaction. */
  private async insertEvents(events: AuditEventEntity[], m: EntityManager) {
    await insertAuditRows(m, events);
    for (const hook of this.flushHooks) await hook(events, m);
    this.metrics.auditEventsWritten(events.length);
  }

  async list(tenantId: string, q: AuditQuery): Promise<AuditEventPageDto> {
    const rows = await this.page(tenantId, q, q.limit, q.cursor);
    const more = rows.length > q.limit;
    const data = more ? rows.slice(0, q.limit) : rows;
    const last = data[data.length - 1];
    return {
      data: data.map((r) => r.dto),
      next_cursor: more && last ? encodeCursor(last.micros, last.dto.event_id) : null,
    };
  }

  /** A user's own latest sign-in attempts (the account page shows them). */
  async recentSignIns(tenantId: string, userId: string, limit = 10): Promise<AuditEventDto[]> {
    // Events are written in batches; the sign-in that just brought the user here may still be
    // in the buffer, and the page must show it.
    await this.flush();
    const rows = await this.page(
      tenantId,
      { type: 'login.*', user: userId, limit },
      limit,
      undefined,
    );
    return rows.slice(0, limit).map((r) => r.dto);
  }

  /** Every matching event, newest first, fetched in keyset pages so memory stays flat. */
  async *export(tenantId: string, q: AuditQuery): AsyncGenerator<AuditEventDto> {
    let cursor = q.cursor;
    for (;;) {
      const rows = await this.page(tenantId, q, 1000, cursor);
      const data = rows.slice(0, 1000);
      for (const r of data) yield r.dto;
      if (rows.length <= 1000) return;
      const last = data[data.length - 1];
      cursor = encodeCursor(last.micros, last.dto.event_id);
    }
  }

  /** Validates the filters once, before a stream starts (errors must be a 400, not a cut stream). */
  checkQuery(q: AuditQuery) {
    if (q.cursor) decodeCursor(q.cursor);
    if (q.from && q.to && new Date(q.from) > new Date(q.to)) {
      throw badRequest('from must not be after to', [
        { field: 'from', message: 'must not be after to' },
      ]);
    }
  }

  private page(tenantId: string, q: AuditQuery, limit: number, cursor: string | undefined) {
    this.checkQuery(q);
    return pageOfEvents(this.events, tenantId, q, limit, cursor);
  }

  /** Retention: per tenant, removes events older than its retention in bounded batches. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const tenants = await crossTenant(this.dataSource).tenantIds();
    let removed = 0;
    for (const tenantId of tenants) {
      const cutoff = new Date(now.getTime() - this.retentionDays(tenantId) * 86_400_000);
      for (;;) {
        // Small batches by ctid: each statement holds its locks briefly and the index on
        // (tenant_id, occurred_at) finds them without scanning the table.
        const [{ n }] = await this.events.sql<{ n: number }>(
          tenantId,
          'audit_events_purge',
          `WITH gone AS (
             DELETE FROM audit_events WHERE ctid IN (
               SELECT ctid FROM audit_events WHERE tenant_id = $1 AND occurred_at < $2 LIMIT ${PURGE_BATCH})
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [cutoff],
        );
        removed += n;
        if (n < PURGE_BATCH) break;
      }
      for (const hook of this.purgeHooks) await hook(tenantId, cutoff, this.dataSource.manager);
    }
    return removed;
  }

  /** Per minute of [start, end) (epoch ms), how many distinct subjects had an event of `type`. */
  async distinctSubjectsPerMinute(
    tenantId: string,
    type: string,
    start: number,
    end: number,
  ): Promise<Array<{ bucket: number; users: number }>> {
    const rows = await this.events.sql<{ minute: string; users: number }>(
      tenantId,
      'audit_events_subjects_per_minute',
      `SELECT floor(extract(epoch from occurred_at) / 60)::bigint::text AS minute,
              count(DISTINCT subject_id)::int AS users
       FROM audit_events
       WHERE tenant_id = $1 AND type = $2 AND occurred_at >= $3 AND occurred_at < $4
         AND subject_id IS NOT NULL
       GROUP BY 1`,
      [type, new Date(start), new Date(end)],
    );
    return rows.map((r) => ({ bucket: Number(r.minute) * 60_000, users: Number(r.users) }));
  }

  /** Tenants have no retention setting yet: every tenant keeps the default. */
  retentionDays(_tenantId: string): number {
    return DEFAULT_AUDIT_RETENTION_DAYS;
  }
}
