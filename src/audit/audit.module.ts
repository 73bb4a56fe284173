import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { AdminAuditInterceptor } from './admin-audit.interceptor.js';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditController } from './audit.controller.js';
import { MyAuditController } from './my-audit.controller.js';
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
export class AuditModule {}
