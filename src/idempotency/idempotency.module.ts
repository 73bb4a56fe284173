import { Global, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { CLAIM_OF_REQUEST, IdempotencyInterceptor, type Claim } from './idempotency.interceptor.js';
import { IdempotencyService } from './idempotency.service.js';

/** Idempotency-Key on the routes marked @Idempotent (users/batch, SCIM Bulk). */
@Global()
@Module({
  imports: [TenancyModule.forFeature([IdempotencyKeyEntity])],
  providers: [IdempotencyService, { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }],
  exports: [IdempotencyService],
})
export class IdempotencyModule implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly keys: IdempotencyService,
  ) {}

  /** The answer of a request that claimed a key is stored before it is sent (or the key freed). */
  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onSend', async (request, reply, payload) => {
      const claim = (request as unknown as Record<symbol, Claim | undefined>)[CLAIM_OF_REQUEST];
      if (!claim) return payload;
      const body =
        typeof payload === 'string'
          ? payload
          : Buffer.isBuffer(payload)
            ? payload.toString()
            : null;
      try {
        if (reply.statusCode >= 200 && reply.statusCode < 300 && body !== null) {
          const type = reply.getHeader('content-type');
          await this.keys.complete(
            claim.tenantId,
            claim.key,
            reply.statusCode,
            type === undefined ? null : String(type),
            body,
          );
        } else await this.keys.release(claim.tenantId, claim.key);
      } catch (err) {
        // The answer still goes out; a resend then finds the key claimed until it is abandoned.
        this.logger.warn({ err }, 'could not store an idempotent answer');
      }
      return payload;
    });
  }
}
