import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { AdminAuditInterceptor } from './admin-audit.interceptor.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/** Global: every module records security events through AuditService. */
@Global()
@Module({
  imports: [TenancyModule.forFeature([AuditEventEntity])],
  controllers: [AuditController],
  providers: [AuditService, { provide: APP_INTERCEPTOR, useClass: AdminAuditInterceptor }],
  exports: [AuditService],
})
export class AuditModule {}
