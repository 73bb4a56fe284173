import {
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { concatMap, type Observable } from 'rxjs';
import type { Principal } from '../auth/scopes.js';
import type { PlatformAction } from './dto/platform-audit.dto.js';
import { PlatformAuditService, type PlatformAuditInput } from './platform-audit.service.js';

const PLATFORM_AUDIT = 'idp:platform-audit';

interface PlatformAuditSpec {
  action: PlatformAction;
  target: PlatformAuditInput['targetType'];
}

/**
 * Marks an operator-level route: a successful call is written to the platform audit log. The
 * target id is the route's own parameter (`key_id`, `tenant_id`) or, on create, the answer's.
 */
export const PlatformAudit = (action: PlatformAction) =>
  SetMetadata(PLATFORM_AUDIT, {
    action,
    target: action.startsWith('tenant.') ? 'tenant' : 'operator_key',
  } satisfies PlatformAuditSpec);

const TARGET_FIELD: Record<PlatformAuditSpec['target'], 'key_id' | 'tenant_id'> = {
  operator_key: 'key_id',
  tenant: 'tenant_id',
};

/**
 * What the log keeps besides who and what: names, never values. An update lists the fields it
 * was given (a tenant setting may hold a secret), a key creation its name and scopes; the
 * answer's `api_key` is never read.
 */
function detailsOf(
  spec: PlatformAuditSpec,
  body: unknown,
  answer: Record<string, unknown>,
): Record<string, unknown> {
  if (spec.action.endsWith('.update')) {
    return { fields: Object.keys(body && typeof body === 'object' ? body : {}).toSorted() };
  }
  if (spec.action === 'operator_key.create') return { name: answer.name, scopes: answer.scopes };
  return {};
}

/** Records every successful route marked with @PlatformAudit; a refused call changed nothing. */
@Injectable()
export class PlatformAuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: PlatformAuditService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<PlatformAuditSpec | undefined>(
      PLATFORM_AUDIT,
      ctx.getHandler(),
    );
    if (!spec || ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    return next.handle().pipe(
      concatMap(async (result: unknown) => {
        const answer = (result && typeof result === 'object' ? result : {}) as Record<
          string,
          unknown
        >;
        const field = TARGET_FIELD[spec.target];
        const params = (req.params ?? {}) as Record<string, string>;
        const given = params[field] ?? answer[field];
        const targetId = typeof given === 'string' ? given : null;
        await this.audit.record(req, {
          action: spec.action,
          targetType: spec.target,
          targetId,
          tenantId: spec.target === 'tenant' ? targetId : null,
          principal: req.principal,
          details: detailsOf(spec, req.body, answer),
        });
        return result;
      }),
    );
  }
}
