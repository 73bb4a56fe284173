import { Controller, Delete, Get, HttpCode, Param, Query, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { SkipAdminAudit } from '../audit/admin-audit.interceptor.js';
import { auditContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { BlockerService } from './blocker.service.js';
import { PlatformBlocker } from './platform-blocker.service.js';
import { BlockListQuery, BlockPageDto } from './dto/block.dto.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('blocker')
@Controller('api/v1/tenants/:tenant_id')
export class BlockerController {
  constructor(private readonly blocker: BlockerService) {}

  @Get('blocked-ips')
  @ApiOperation({ summary: 'List blocked IP addresses' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'blocker:read' })
  @ApiOkResponse({ type: BlockPageDto, description: 'running blocks, by start time' })
  listIps(@Param('tenant_id') tenantId: string, @Query() q: BlockListQuery) {
    return this.blocker.list(tenantId, 'ip', q);
  }

  @Get('blocked-users')
  @ApiOperation({ summary: 'List blocked users' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'blocker:read' })
  @ApiOkResponse({ type: BlockPageDto, description: 'running blocks, by start time' })
  listUsers(@Param('tenant_id') tenantId: string, @Query() q: BlockListQuery) {
    return this.blocker.list(tenantId, 'user', q);
  }

  @Get('blocked-clients')
  @ApiOperation({ summary: 'List blocked OAuth clients' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'blocker:read' })
  @ApiOkResponse({ type: BlockPageDto, description: 'running blocks of OAuth client ids' })
  listClients(@Param('tenant_id') tenantId: string, @Query() q: BlockListQuery) {
    return this.blocker.list(tenantId, 'client', q);
  }

  @Delete('blocked-ips/:ip')
  @ApiOperation({ summary: 'Unblock an IP address' })
  @ApiProblems(400, 404)
  @HttpCode(204)
  @SkipAdminAudit()
  @Authenticated({ scope: 'blocker:write' })
  @ApiNoContentResponse({ description: 'unblocked; its failure counter is cleared too' })
  async unblockIp(
    @Param('tenant_id') tenantId: string,
    @Param('ip') ip: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.blocker.unblock(tenantId, 'ip', ip, { principal, ...auditContextOf(req) });
  }

  @Delete('blocked-clients/:client_id')
  @ApiOperation({ summary: 'Unblock an OAuth client' })
  @ApiProblems(404)
  @HttpCode(204)
  @SkipAdminAudit()
  @Authenticated({ scope: 'blocker:write' })
  @ApiNoContentResponse({ description: 'unblocked; its failure counter is cleared too' })
  async unblockClient(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.blocker.unblock(tenantId, 'client', clientId, { principal, ...auditContextOf(req) });
  }

  @Delete('blocked-users/:username')
  @ApiOperation({ summary: 'Unblock a user' })
  @ApiProblems(404)
  @HttpCode(204)
  @SkipAdminAudit()
  @Authenticated({ scope: 'blocker:write' })
  @ApiNoContentResponse({
    description: 'unblocked (the login, or the user id of an account block); counters cleared too',
  })
  async unblockUser(
    @Param('tenant_id') tenantId: string,
    @Param('username') username: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.blocker.unblock(tenantId, 'user', username, { principal, ...auditContextOf(req) });
  }
}

/** Platform-wide blocks: addresses that failed API-key authentication too often. */
@ApiTags('blocker')
@Controller('api/v1/blocked-ips')
export class PlatformBlockerController {
  constructor(private readonly blocker: PlatformBlocker) {}

  @Get()
  @ApiOperation({ summary: 'List platform-wide blocked IP addresses' })
  @ApiProblems(400)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: BlockPageDto, description: 'running platform blocks, by start time' })
  list(@Query() q: BlockListQuery) {
    return this.blocker.list(q);
  }

  @Delete(':ip')
  @ApiOperation({ summary: 'Unblock an IP address platform-wide' })
  @ApiProblems(400, 404)
  @HttpCode(204)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiNoContentResponse({ description: 'unblocked on /api and /scim; its counter is cleared too' })
  async unblock(@Param('ip') ip: string, @CurrentPrincipal() principal: Principal) {
    await this.blocker.unblock(ip, { principal });
  }
}
