import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { AdminAuditInterceptor } from './admin-audit.interceptor.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditController } from './audit.controller.js';
import { MyAuditController } from './my-audit.controller.js';
import { type AuditScope, SCOPE_OF_REQUEST } from './audit-scope.js';
import { AuditService } from './audit.service.js';
import { PlatformAuditEventEntity } from './platform-audit-event.entity.js';
import { PlatformAuditController } from './platform-audit.controller.js';
import { PlatformAuditInterceptor } from './platform-audit.interceptor.js';
import { PlatformAuditService } from './platform-audit.service.js';

/**
 * Global: every module records security events through AuditService. Operator actions go to
 * the platform log through @PlatformAudit on their routes.
 */
@Global()
@Module({
  imports: [
    TenancyModule.forFeature([AuditEventEntity]),
    TypeOrmModule.forFeature([PlatformAuditEventEntity]),
  ],
  controllers: [AuditController, PlatformAuditController, MyAuditController],
  providers: [
    AuditService,
    PlatformAuditService,
    { provide: APP_INTERCEPTOR, useClass: AdminAuditInterceptor },
    { provide: APP_INTERCEPTOR, useClass: PlatformAuditInterceptor },
  ],
  exports: [AuditService],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditService,
  ) {}

  /** No change request is answered before its audit events are written (see audit-scope.ts). */
  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onSend', async (request, _reply, payload) => {
      const scope = (request as unknown as Record<symbol, AuditScope | undefined>)[
        SCOPE_OF_REQUEST
      ];
      if (scope?.pending.length) await this.audit.settle(scope);
      return payload;
    });
  }
}
