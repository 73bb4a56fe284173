import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { Repository } from 'typeorm';
import type { Principal } from '../auth/scopes.js';
import { badRequest } from '../common/problem.js';
import { page, type Page } from '../common/pagination.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { auditContextOf, dottedNameFilter } from './audit.service.js';
import type {
  PlatformAction,
  PlatformAuditEventDto,
  PlatformAuditQuery,
} from './dto/platform-audit.dto.js';
import { PlatformAuditEventEntity } from './platform-audit-event.entity.js';

export interface PlatformAuditInput {
  action: PlatformAction;
  targetType: 'operator_key' | 'tenant';
  targetId: string | null;
  tenantId: string | null;
  principal: Principal | undefined;
  /** Names only (changed fields, granted scopes): never a value that could be a secret. */
  details?: Record<string, unknown>;
}

export function toPlatformAuditEventDto(e: PlatformAuditEventEntity): PlatformAuditEventDto {
  return {
    event_id: e.event_id,
    occurred_at: e.occurred_at.toISOString(),
    action: e.action,
    actor_type: e.actor_type,
    actor_id: e.actor_id,
    actor_holder: e.actor_holder,
    target_type: e.target_type,
    target_id: e.target_id,
    tenant_id: e.tenant_id,
    ip: e.ip,
    request_id: e.request_id,
    user_agent: e.user_agent,
    details: e.details,
  };
}

/**
 * The platform audit log. Unlike the tenant log (buffered, high volume), each operator action is
 * written before its answer leaves: they are rare, and an operator reading the log right after
 * an action must find it. A failed write is logged and counted, never turned into a failed
 * answer: the action itself has already happened.
 */
@Injectable()
export class PlatformAuditService {
  private readonly logger = new Logger('PlatformAudit');

  constructor(
    @InjectRepository(PlatformAuditEventEntity)
    private readonly events: Repository<PlatformAuditEventEntity>,
    private readonly metrics: MetricsService,
  ) {}

  async record(req: FastifyRequest, input: PlatformAuditInput): Promise<void> {
    const { ip, userAgent } = auditContextOf(req);
    const e = new PlatformAuditEventEntity();
    e.event_id = randomUUID();
    e.occurred_at = new Date();
    e.action = input.action;
    e.actor_type = input.principal ? 'api_key' : 'system';
    e.actor_id = input.principal?.credentialId ?? null;
    e.actor_holder = input.principal?.holder ?? null;
    e.target_type = input.targetType;
    e.target_id = input.targetId;
    e.tenant_id = input.tenantId;
    e.ip = ip?.slice(0, 64) ?? null;
    e.request_id = req.id ? String(req.id).slice(0, 128) : null;
    e.user_agent = userAgent?.slice(0, 512) ?? null;
    e.details = input.details ?? {};
    try {
      await this.events.save(e, { reload: false });
      this.metrics.auditEventsWritten(1);
    } catch (err) {
      this.metrics.auditEventsDropped(1);
      this.logger.error(
        { err, action: e.action, request_id: e.request_id },
        'could not write a platform audit event',
      );
    }
  }

  async list(q: PlatformAuditQuery): Promise<Page<PlatformAuditEventDto>> {
    if (q.since && q.until && new Date(q.since) > new Date(q.until)) {
      throw badRequest('since must not be after until', [
        { field: 'since', message: 'must not be after until' },
      ]);
    }
    const qb = this.events.createQueryBuilder('e');
    if (q.action) {
      const [sql, params] = dottedNameFilter('e.action', q.action);
      qb.andWhere(sql, params);
    }
    if (q.since) qb.andWhere('e.occurred_at >= :since', { since: new Date(q.since) });
    if (q.until) qb.andWhere('e.occurred_at < :until', { until: new Date(q.until) });
    const direction = q.sort_direction === 1 ? 'ASC' : 'DESC';
    const [rows, total] = await qb
      .orderBy('e.occurred_at', direction)
      .addOrderBy('e.event_id', direction)
      .take(q.limit)
      .skip(q.offset)
      .getManyAndCount();
    return page(rows.map(toPlatformAuditEventDto), total, q);
  }
}
