import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { notFound } from '../common/problem.js';
import { AuditService } from './audit.service.js';
import { AuditEventPageDto, AuditQuery } from './dto/audit.dto.js';

/** The user's own sign-ins and security events (where they are the subject or the actor). */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/audit')
export class MyAuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Self('me:read')
  @ApiOperation({ summary: 'The own sign-ins and security events, newest first (cursor pages)' })
  @ApiOkResponse({ type: AuditEventPageDto })
  list(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Query() q: AuditQuery,
  ) {
    if (!me.userId) throw notFound('User');
    // `user` is always the caller: nobody reads another user's events here.
    return this.audit.list(tenantId, { ...q, user: me.userId });
  }
}
