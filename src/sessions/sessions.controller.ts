import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { UsersService } from '../users/users.service.js';
import { RevokedSessionsDto, SessionPageDto } from './dto/session.dto.js';
import { SessionsService } from './sessions.service.js';
import { ApiProblems } from '../common/api-docs.js';

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/sessions')
export class MySessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({ summary: 'List the caller’s sessions' })
  @ApiProblems(400, 404)
  @Self('me:read')
  @ApiOkResponse({ type: SessionPageDto, description: 'newest activity first by default' })
  list(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Query() q: ListQuery,
  ) {
    return this.sessions.list(tenantId, selfId(me), q);
  }

  @Delete(':session_id')
  @ApiOperation({ summary: 'Revoke one of the caller’s sessions' })
  @ApiProblems(404)
  @HttpCode(204)
  @Self('me:write')
  @ApiNoContentResponse({ description: 'the session, its grants and their tokens are gone' })
  async revoke(
    @Param('tenant_id') tenantId: string,
    @Param('session_id') sessionId: string,
    @CurrentPrincipal() me: Principal,
  ) {
    await this.sessions.revoke(tenantId, selfId(me), sessionId);
  }

  @Delete()
  @ApiOperation({ summary: 'Sign the caller out everywhere' })
  @ApiProblems(404)
  @Self('me:write')
  @ApiOkResponse({ type: RevokedSessionsDto })
  async revokeAll(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
  ): Promise<RevokedSessionsDto> {
    return { revoked: await this.sessions.revokeAll(tenantId, selfId(me)) };
  }
}

@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/sessions')
export class UserSessionsAdminController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {}

  @Delete()
  @ApiOperation({ summary: 'Sign a user out everywhere' })
  @ApiProblems(404)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({
    type: RevokedSessionsDto,
    description: 'every session and token of the user ends',
  })
  async revokeAll(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
  ): Promise<RevokedSessionsDto> {
    if (!(await this.users.userExists(tenantId, userId))) throw notFound('User');
    return { revoked: await this.sessions.revokeAll(tenantId, userId) };
  }
}
