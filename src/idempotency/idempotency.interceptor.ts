import {
  applyDecorators,
  Injectable,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-docs.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, of, switchMap, type Observable } from 'rxjs';
import { badRequest, ProblemException } from '../common/problem.js';
import { fingerprintOf, IdempotencyService } from './idempotency.service.js';

const IDEMPOTENT = 'idp:idempotent';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Where a request that claimed a key carries it, for the send hook that stores the answer. */
export const CLAIM_OF_REQUEST = Symbol('idp:idempotency-claim');
export interface Claim {
  tenantId: string;
  key: string;
}

/** Printable ASCII without spaces, 1–255 characters (an sf-string's quotes are taken off). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Marks a POST that accepts an optional Idempotency-Key header. `answersItself`: the handler
 * sends through the reply (@Res), so a replay must be sent the same way.
 */
export const Idempotent = (options: { answersItself?: boolean } = {}) =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, options),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes a resend safe: the same key with the same body within the retention answers the first answer again (with Idempotent-Replayed: true); with another body, 422. Keys are per tenant.',
    }),
    ApiProblems(
      [409, 'A request with this Idempotency-Key is still running'],
      [422, 'This Idempotency-Key was used with another body'],
    ),
  );

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: IdempotencyService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const options = this.reflector.get<{ answersItself?: boolean } | undefined>(
      IDEMPOTENT,
      ctx.getHandler(),
    );
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const header = req.headers[IDEMPOTENCY_HEADER];
    if (!options || header === undefined) return next.handle();
    const key = String(header).replace(/^"(.*)"$/, '$1');
    if (!KEY.test(key))
      throw badRequest('Invalid Idempotency-Key', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
      ]);
    const tenantId = (req.params as Record<string, string>).tenant_id;
    const fingerprint = fingerprintOf(req.method, req.routeOptions?.url ?? req.url, req.body);
    return from(this.keys.claim(tenantId, key, fingerprint)).pipe(
      switchMap((outcome) => {
        if (outcome.kind === 'mismatch')
          throw new ProblemException(
            422,
            'idempotency-key-reused',
            'Idempotency-Key reused',
            'This Idempotency-Key was used with another request body',
          );
        if (outcome.kind === 'in-progress')
          throw new ProblemException(
            409,
            'idempotency-key-in-use',
            'Idempotency-Key in use',
            'A request with this Idempotency-Key is still running; retry later',
          );
        const reply = ctx.switchToHttp().getResponse<FastifyReply>();
        if (outcome.kind === 'replay') {
          reply.header('idempotent-replayed', 'true');
          if (outcome.contentType) reply.header('content-type', outcome.contentType);
          if (options.answersItself) {
            void reply.status(outcome.status).send(outcome.body);
            return of(undefined);
          }
          // Nest sends the value with the route's status, which is the one stored (2xx only).
          return of(JSON.parse(outcome.body) as unknown);
        }
        (req as unknown as Record<symbol, Claim>)[CLAIM_OF_REQUEST] = { tenantId, key };
        return next.handle();
      }),
    );
  }
}
