import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { SkipAdminAudit } from '../audit/admin-audit.interceptor.js';
import { requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ApiProblems } from '../common/api-docs.js';
import { ListQuery } from '../common/pagination.js';
import {
  CreateUpstreamProviderDto,
  UpdateUpstreamProviderDto,
  UpstreamProviderDto,
  UpstreamProviderPageDto,
} from './dto/upstream-provider.dto.js';
import { UpstreamProviderAdminService } from './upstream-provider-admin.service.js';

/** Upstream identity providers ("Sign in with Google"), issue 21. Changes record upstream_provider.* events. */
@ApiTags('upstream-providers')
@Controller('api/v1/tenants/:tenant_id/upstream-providers')
export class UpstreamProvidersController {
  constructor(private readonly providers: UpstreamProviderAdminService) {}

  @Post()
  @Authenticated({ scope: 'upstream-providers:write' })
  @ApiOperation({ summary: 'Add an upstream identity provider (OIDC, or OAuth2 for GitHub)' })
  @ApiProblems(400, 404, [409, 'the provider_id or a domain hint is taken'])
  @ApiCreatedResponse({ type: UpstreamProviderDto })
  @SkipAdminAudit()
  create(
    @Param('tenant_id') tenantId: string,
    @Body() dto: CreateUpstreamProviderDto,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.providers.create(tenantId, dto, requestContextOf(req, principal));
  }

  @Get()
  @Authenticated({ scope: 'upstream-providers:read' })
  @ApiOperation({
    summary: 'List upstream providers (newest first unless sort_direction=1)',
  })
  @ApiProblems(400, 404)
  @ApiOkResponse({ type: UpstreamProviderPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ListQuery) {
    return this.providers.list(tenantId, q);
  }

  @Get(':provider_id')
  @Authenticated({ scope: 'upstream-providers:read' })
  @ApiOperation({ summary: 'Read an upstream provider (never its client secret)' })
  @ApiProblems(404)
  @ApiOkResponse({ type: UpstreamProviderDto })
  get(@Param('tenant_id') tenantId: string, @Param('provider_id') providerId: string) {
    return this.providers.get(tenantId, providerId);
  }

  @Patch(':provider_id')
  @Authenticated({ scope: 'upstream-providers:write' })
  @ApiOperation({
    summary: 'Change an upstream provider (client_secret: replace, or null to clear)',
  })
  @ApiProblems(400, 404, [409, 'a domain hint is taken'])
  @ApiOkResponse({ type: UpstreamProviderDto })
  @SkipAdminAudit()
  update(
    @Param('tenant_id') tenantId: string,
    @Param('provider_id') providerId: string,
    @Body() dto: UpdateUpstreamProviderDto,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.providers.update(tenantId, providerId, dto, requestContextOf(req, principal));
  }

  @Delete(':provider_id')
  @HttpCode(204)
  @Authenticated({ scope: 'upstream-providers:write' })
  @ApiOperation({ summary: 'Delete an upstream provider and every user’s link to it' })
  @ApiProblems(404)
  @ApiNoContentResponse()
  @SkipAdminAudit()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('provider_id') providerId: string,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.providers.remove(tenantId, providerId, requestContextOf(req, principal));
  }
}
