import { auditScope } from '../audit/audit-scope.js';
import type { AuditContext, AuditService } from '../audit/audit.service.js';
import type { BulkAudit, Method } from './scim-bulk.service.js';

type Resource = 'user' | 'group';

const CHANGE_OF_METHOD: Record<Method, string> = {
  POST: 'created',
  PUT: 'updated',
  PATCH: 'updated',
  DELETE: 'deleted',
};

/** The table and id column of a created resource (the audit event names the first row). */
const CREATED_ROW: Record<Resource, { table: string; field: string }> = {
  user: { table: 'users', field: 'user_id' },
  group: { table: 'groups', field: 'group_id' },
};

/**
 * The audit of a Bulk request (scim.user.created, scim.group.updated, ...; the SCIM client's
 * key is the actor): each operation's event is staged in the request's audit scope before the
 * operation runs, so the operation's own commit carries it (decision 0023); a failed
 * operation's event is dropped. Outside a scope, events are recorded after success.
 */
export function bulkAudit(audit: AuditService, tenantId: string, ctx: AuditContext): BulkAudit {
  return scimAudit(audit, tenantId, ctx, (method) => ({
    operation: method.toLowerCase(),
    bulk: true,
  }));
}

/**
 * The same staging for SCIM's single-resource writes (POST /Users, PATCH /Groups/{id}, ...):
 * the event goes in with the change's own commit, named by its first row for a create; details
 * known only from the result (a user's `active`) are set by `ok`.
 */
export function scimAudit(
  audit: AuditService,
  tenantId: string,
  ctx: AuditContext,
  detailsOf: (method: Method) => Record<string, unknown>,
): BulkAudit {
  const scope = auditScope.getStore();
  const input = (resource: Resource, method: Method, subjectId: string | null) => ({
    tenantId,
    type: `scim.${resource}.${CHANGE_OF_METHOD[method]}`,
    actorType: ctx.actorType,
    actorId: ctx.actorId,
    subjectType: resource,
    subjectId,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    outcome: 'success' as const,
    method: 'scim',
    details: detailsOf(method),
  });
  return {
    begin: (resource, method, subjectId) => {
      if (!scope) {
        return {
          ok: async (id, details) => {
            const event = input(resource, method, id);
            audit.record(details ? { ...event, details: { ...event.details, ...details } } : event);
          },
          failed: async () => {},
        };
      }
      const event = audit.stage(scope, input(resource, method, subjectId));
      // A create's id is the first row its table gets in this operation's transaction.
      const previous = scope.subjectFrom;
      if (subjectId === null) scope.subjectFrom = { event, ...CREATED_ROW[resource] };
      return {
        ok: async (id, details) => {
          scope.subjectFrom = previous;
          await audit.complete(scope, event, id, details && { ...event.details, ...details });
        },
        failed: async () => {
          scope.subjectFrom = previous;
          await audit.drop(scope, event);
        },
      };
    },
  };
}
