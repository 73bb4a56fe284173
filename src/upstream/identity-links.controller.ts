import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { SkipAdminAudit } from '../audit/admin-audit.interceptor.js';
import { requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ApiProblems } from '../common/api-docs.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { IdentityLinkDto } from '../users/dto/me.dto.js';
import { CreateIdentityLinkDto } from './dto/identity-link.dto.js';
import { IdentityLinksService } from './identity-links.service.js';

export class IdentityLinkPageDto {
  @ApiProperty({ type: [IdentityLinkDto] }) data: IdentityLinkDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class IdentityLinkListDto {
  @ApiProperty({ type: [IdentityLinkDto], description: 'at most one per provider, oldest first' })
  data: IdentityLinkDto[];
}

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

const LAST_WAY = [
  409,
  'urn:idp:problem:last-sign-in-method: the account has no password, passkey, PIN/pattern or other link',
] as [number, string];

/** The caller's own linked upstream identities (issue 21). */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/identities')
export class MyIdentitiesController {
  constructor(private readonly links: IdentityLinksService) {}

  @Get()
  @Self('me:read')
  @ApiOperation({ summary: 'List the caller’s linked upstream identities' })
  @ApiProblems(404)
  @ApiOkResponse({ type: IdentityLinkListDto })
  async list(@Param('tenant_id') tenantId: string, @CurrentPrincipal() me: Principal) {
    return { data: await this.links.views(tenantId, selfId(me)) };
  }

  @Delete(':link_id')
  @HttpCode(204)
  @Self('me:credentials')
  @ApiOperation({
    summary: 'Unlink one of the caller’s upstream identities (never the last way in)',
  })
  @ApiProblems(404, LAST_WAY)
  @ApiNoContentResponse()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('link_id') linkId: string,
    @CurrentPrincipal() me: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.links.unlink(tenantId, selfId(me), linkId, requestContextOf(req, me));
  }
}

/** A user's linked upstream identities, for admins (issue 21). */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/identities')
export class UserIdentitiesAdminController {
  constructor(private readonly links: IdentityLinksService) {}

  @Get()
  @Authenticated({ scope: 'users:read' })
  @ApiOperation({ summary: 'List a user’s linked upstream identities' })
  @ApiProblems(400, 404)
  @ApiOkResponse({ type: IdentityLinkPageDto })
  list(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Query() q: ListQuery,
  ) {
    return this.links.pageFor(tenantId, userId, q);
  }

  @Post()
  @Authenticated({ scope: 'users:write' })
  @ApiOperation({
    summary: 'Link an upstream identity to a user (before their first upstream sign-in)',
  })
  @ApiProblems(400, 404, [
    409,
    'the upstream account is linked already, or the user has a link to this provider',
  ])
  @ApiCreatedResponse({ type: IdentityLinkDto })
  @SkipAdminAudit()
  create(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: CreateIdentityLinkDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    return this.links.linkByAdmin(
      tenantId,
      userId,
      { provider_id: dto.provider_id, subject: dto.subject, email: dto.email ?? null },
      requestContextOf(req, principal),
    );
  }

  @Delete(':link_id')
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiOperation({
    summary:
      'Remove a user’s linked identity (even the last way to sign in: the account keeps whatever else it has)',
  })
  @ApiProblems(404)
  @ApiNoContentResponse()
  @SkipAdminAudit()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Param('link_id') linkId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.links.unlink(tenantId, userId, linkId, requestContextOf(req, principal), true);
  }
}
