import type { TenantRepository } from '../../libs/tenancy/index.js';
import { crossTenant, type SqlRunner } from '../../libs/tenancy/index.js';
import type { AuditEventEntity } from './audit-event.entity.js';
import { decodeCursor, dottedNameFilter, toAuditEventDto } from './audit-format.js';
import type { AuditEventDto, AuditQuery } from './dto/audit.dto.js';

/** Inserts events in one statement on `m` (a transaction: a flush batch, or a change's own). */
export async function insertAuditRows(m: SqlRunner, events: AuditEventEntity[]) {
  const col = <K extends keyof AuditEventEntity>(k: K) => events.map((e) => e[k]);
  // unnest keeps the statement at 13 parameters whatever the batch size; one batch carries
  // many tenants' events, so the insert is cross-tenant by design.
  await crossTenant(m).sql(
    'audit_events_add',
    `INSERT INTO audit_events (tenant_id, event_id, occurred_at, type, actor_type, actor_id,
       subject_type, subject_id, ip, user_agent, outcome, method, details)
     SELECT t, e, o, ty, at, ai, st, si, ip, ua, oc, me, d::jsonb
     FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
       AS x(t, e, o, ty, at, ai, st, si, ip, ua, oc, me, d)`,
    [
      col('tenant_id'),
      col('event_id'),
      events.map((e) => e.occurred_at.toISOString()),
      col('type'),
      col('actor_type'),
      col('actor_id'),
      col('subject_type'),
      col('subject_id'),
      col('ip'),
      col('user_agent'),
      col('outcome'),
      col('method'),
      events.map((e) => JSON.stringify(e.details)),
    ],
  );
}

/** One page of a tenant's events, newest first, after `cursor` (validated by the caller). */
export async function pageOfEvents(
  events: TenantRepository<AuditEventEntity>,
  tenantId: string,
  q: AuditQuery,
  limit: number,
  cursor: string | undefined,
): Promise<Array<{ dto: AuditEventDto; micros: string }>> {
  const qb = events.query(tenantId, 'e');
  if (q.type) {
    const [sql, params] = dottedNameFilter('e.type', q.type);
    qb.andWhere(sql, params);
  }
  if (q.user) qb.andWhere('(e.subject_id = :user OR e.actor_id = :user)', { user: q.user });
  if (q.outcome) qb.andWhere('e.outcome = :outcome', { outcome: q.outcome });
  if (q.from) qb.andWhere('e.occurred_at >= :from', { from: new Date(q.from) });
  if (q.to) qb.andWhere('e.occurred_at < :to', { to: new Date(q.to) });
  if (cursor) {
    const c = decodeCursor(cursor);
    // Microseconds, not milliseconds: two events in one millisecond must not hide each other.
    qb.andWhere(
      `(e.occurred_at, e.event_id) < (timestamptz 'epoch' + :cMicros::bigint * interval '1 microsecond', :cId::uuid)`,
      { cMicros: c.micros, cId: c.eventId },
    );
  }
  qb.addSelect(`(extract(epoch from e.occurred_at) * 1000000)::bigint::text`, 'micros')
    .orderBy('e.occurred_at', 'DESC')
    .addOrderBy('e.event_id', 'DESC')
    .limit(limit + 1);
  const { raw, entities } = await qb.getRawAndEntities();
  return entities.map((e, i) => ({ dto: toAuditEventDto(e), micros: String(raw[i].micros) }));
}
