import { badRequest } from '../common/problem.js';
import type { AuditEventEntity } from './audit-event.entity.js';
import type { AuditEventDto } from './dto/audit.dto.js';

/** How audit events are cleaned on the way in and shown on the way out (DTOs, cursors, filters). */

const CURSOR = /^(\d{1,20})\.([0-9a-f-]{36})$/;

/**
 * PostgreSQL text cannot hold NUL, and one such value fails its whole batch (other tenants'
 * events too): a NUL someone typed (a client id, a login) becomes U+FFFD.
 */
const noNul = (v: string): string => (v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v);

export const clip = (v: string | null | undefined, max: number): string | null =>
  v === undefined || v === null ? null : noNul(v.length > max ? v.slice(0, max) : v);

const MAX_DETAILS_BYTES = 8_192;

/** Details are copied now (a caller may mutate its object later) and must be plain, small JSON. */
export function safeDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  try {
    const text = JSON.stringify(details);
    if (text.length > MAX_DETAILS_BYTES) return { truncated: true };
    return JSON.parse(text, (_key, value: unknown) =>
      typeof value === 'string' ? noNul(value) : value,
    ) as Record<string, unknown>;
  } catch {
    return { unserializable: true };
  }
}

/**
 * A filter on a dotted name (event type, platform action): exact, or a prefix when it ends in
 * `*` (`login.*`), with LIKE's own wildcards escaped.
 */
export function dottedNameFilter(column: string, value: string): [string, Record<string, string>] {
  if (!value.endsWith('*')) return [`${column} = :dottedName`, { dottedName: value }];
  const prefix = value.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
  return [`${column} LIKE :dottedPrefix`, { dottedPrefix: `${prefix}%` }];
}

export function toAuditEventDto(e: AuditEventEntity): AuditEventDto {
  return {
    event_id: e.event_id,
    tenant_id: e.tenant_id,
    occurred_at: e.occurred_at.toISOString(),
    type: e.type,
    actor_type: e.actor_type,
    actor_id: e.actor_id,
    subject_type: e.subject_type,
    subject_id: e.subject_id,
    ip: e.ip,
    user_agent: e.user_agent,
    outcome: e.outcome,
    method: e.method,
    details: e.details,
  };
}

export function encodeCursor(micros: string, eventId: string): string {
  return Buffer.from(`${micros}.${eventId}`).toString('base64url');
}

export function decodeCursor(cursor: string): { micros: string; eventId: string } {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m)
    throw badRequest('Invalid cursor', [
      { field: 'cursor', message: 'is not a cursor this API issued' },
    ]);
  return { micros: m[1], eventId: m[2] };
}
