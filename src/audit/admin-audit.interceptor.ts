import {
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, concatMap, Observable } from 'rxjs';
import type { Principal } from '../auth/scopes.js';
import type { AuditEventEntity } from './audit-event.entity.js';
import { AuditScope, auditScope, SCOPE_OF_REQUEST } from './audit-scope.js';
import { auditContextOf, AuditService } from './audit.service.js';

const SKIP_ADMIN_AUDIT = 'idp:skip-admin-audit';

/** For routes that record a richer event themselves, so the log does not say it twice. */
export const SkipAdminAudit = () => SetMetadata(SKIP_ADMIN_AUDIT, true);

const VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'replace',
  PATCH: 'update',
  DELETE: 'delete',
};
const TENANT_ROUTE = /^\/api\/v1\/tenants\/:tenant_id(?:\/(.*))?$/;
/** Self-service routes are the user's own doing; their modules record them with the user as actor. */
const SELF_SERVICE = new Set(['me']);

const singular = (segment: string) => segment.replace(/s$/, '');

/**
 * `admin.<resource>[.<sub-resource>].<verb>` from the route template, never the raw URL:
 * POST /users → admin.user.create, PATCH /users/:user_id → admin.user.update,
 * POST /users/:user_id/disable → admin.user.disable, DELETE /groups/:group_id/members/:user_id →
 * admin.group.members.delete. The subject is the first path parameter after the tenant.
 */
export function describeAdminRoute(
  method: string,
  template: string,
): { type: string; resource: string; subjectParam?: string } | null {
  const verb = VERBS[method];
  if (!verb) return null;
  if (template === '/api/v1/tenants' && method === 'POST') {
    return { type: 'admin.tenant.create', resource: 'tenant' };
  }
  const m = TENANT_ROUTE.exec(template);
  if (!m) return null;
  const segments = (m[1] ?? '').split('/').filter(Boolean);
  if (!segments.length) {
    // The tenant itself; its deletion leaves no log to write into.
    return method === 'DELETE' ? null : { type: `admin.tenant.${verb}`, resource: 'tenant' };
  }
  if (segments[0].startsWith(':') || SELF_SERVICE.has(segments[0])) return null;
  const resource = singular(segments[0]);
  const statics = segments.slice(1).filter((s) => !s.startsWith(':'));
  const subjectParam = segments
    .slice(1)
    .find((s) => s.startsWith(':'))
    ?.slice(1);
  const last = segments[segments.length - 1];
  const action =
    method === 'POST' && segments.length > 1 && !last.startsWith(':')
      ? statics.join('.')
      : [...statics, verb].join('.');
  return { type: `admin.${resource}.${action}`, resource, subjectParam };
}

const ID_FIELDS = ['user_id', 'group_id', 'client_id', 'key_id', 'kid', 'tenant_id'];
/** The table and id column of a resource a POST creates, to name the subject at commit. */
const CREATED_ROW: Record<string, { table: string; field: string }> = {
  user: { table: 'users', field: 'user_id' },
  group: { table: 'groups', field: 'group_id' },
  client: { table: 'clients', field: 'client_id' },
  'api-key': { table: 'api_keys', field: 'key_id' },
};
/** Change requests whose events are written with the change: the management API and SCIM. */
const CHANGE_PATH = /^\/(?:api\/|[^/]+\/scim\/v2\/)/;

/**
 * Records every successful change made through the management API (non-GET under
 * /api/v1/tenants/:tenant_id) with the calling key as actor. Failures are not recorded here:
 * a refused request changed nothing.
 *
 * Every change request (management API, SCIM) runs in an AuditScope: its events — this one and
 * those services record — are written in the change's own transaction, and any left over before
 * the answer is sent, so an acknowledged change always has its event (decision 0023).
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    if (!VERBS[req.method] || !CHANGE_PATH.test(req.url)) return next.handle();
    const scope = new AuditScope();
    // A handler that answers through the reply itself (@Res) sends before the pipe below runs:
    // the send hook (AuditModule) settles the scope first.
    (req as unknown as Record<symbol, AuditScope>)[SCOPE_OF_REQUEST] = scope;
    const staged = this.stage(ctx, req, scope);
    return new Observable((subscriber) =>
      auditScope.run(scope, () =>
        next
          .handle()
          .pipe(
            concatMap(async (body: unknown) => {
              if (staged) await this.audit.complete(scope, staged.event, staged.subjectOf(body));
              await this.audit.settle(scope);
              return body;
            }),
            catchError(async (err: unknown) => {
              if (staged) await this.audit.drop(scope, staged.event).catch(() => {});
              await this.audit.settle(scope);
              throw err;
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }

  /** The route's admin event, staged before the handler runs so the change's commit takes it. */
  private stage(
    ctx: ExecutionContext,
    req: FastifyRequest & { principal?: Principal },
    scope: AuditScope,
  ): { event: AuditEventEntity; subjectOf: (body: unknown) => string | null } | undefined {
    const template = req.routeOptions?.url;
    const route = template ? describeAdminRoute(req.method, template) : null;
    if (
      !route ||
      this.reflector.getAllAndOverride<boolean>(SKIP_ADMIN_AUDIT, [
        ctx.getHandler(),
        ctx.getClass(),
      ])
    )
      return undefined;
    const params = (req.params ?? {}) as Record<string, string>;
    const sent = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    // A tenant create names its id in the body: the event goes in with the tenant's row.
    const tenantId =
      params.tenant_id ?? (typeof sent.tenant_id === 'string' ? sent.tenant_id : undefined);
    if (!tenantId) return undefined;
    const fromParams = route.subjectParam ? params[route.subjectParam] : undefined;
    const principal = req.principal;
    const event = this.audit.stage(scope, {
      tenantId,
      type: route.type,
      actorType: principal ? 'api_key' : 'system',
      actorId: principal?.credentialId ?? null,
      subjectType: route.resource,
      subjectId: fromParams ?? (route.resource === 'tenant' ? tenantId : null),
      ...auditContextOf(req),
      outcome: 'success',
      method: 'api',
      details: {
        http_method: req.method,
        route: template,
        ...(principal?.userId ? { acting_user_id: principal.userId } : {}),
      },
    });
    const created = CREATED_ROW[route.resource];
    if (fromParams === undefined && created) scope.subjectFrom = { event, ...created };
    const subjectOf = (body: unknown): string | null => {
      if (fromParams !== undefined) return fromParams;
      const answer = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      const field =
        route.resource === 'tenant'
          ? 'tenant_id'
          : ID_FIELDS.find((f) => typeof answer[f] === 'string');
      return field ? ((answer[field] as string | undefined) ?? null) : null;
    };
    return { event, subjectOf };
  }
}
