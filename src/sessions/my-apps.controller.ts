import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { auditContextOf } from '../audit/audit.service.js';
import { CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { MyAppPageDto } from './dto/my-app.dto.js';
import { RevokedSessionsDto } from './dto/session.dto.js';
import { MyAppsService } from './my-apps.service.js';
import { SessionsService } from './sessions.service.js';

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

/** The apps the user consented to, with revoke. */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/apps')
export class MyAppsController {
  constructor(private readonly apps: MyAppsService) {}

  @Get()
  @Self('me:read')
  @ApiOperation({ summary: 'Apps the user has given consent to' })
  @ApiOkResponse({ type: MyAppPageDto })
  list(@Param('tenant_id') t: string, @CurrentPrincipal() me: Principal, @Query() q: ListQuery) {
    return this.apps.list(t, selfId(me), q);
  }

  @Delete(':client_id')
  @HttpCode(204)
  @Self('me:write')
  @ApiOperation({ summary: "Revoke an app's consent: its grants and refresh tokens end" })
  @ApiNoContentResponse()
  async revoke(
    @Param('tenant_id') t: string,
    @Param('client_id') clientId: string,
    @CurrentPrincipal() me: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.apps.revoke(t, selfId(me), clientId, auditContextOf(req));
  }
}

/** Sign-out of this session, and everywhere (the seed's logout and logout-all). */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me')
export class MySignOutController {
  constructor(private readonly sessions: SessionsService) {}

  @Post('logout')
  @HttpCode(204)
  @Self('me:write')
  @ApiOperation({ summary: 'Sign out of the session the access token came from' })
  @ApiNoContentResponse({ description: "the token's session and every grant it opened end" })
  async logout(@Param('tenant_id') t: string, @CurrentPrincipal() me: Principal) {
    if (!me.sessionUid)
      throw notFound('Session', 'This credential belongs to no sign-in session (an API key?)');
    await this.sessions.revoke(t, selfId(me), me.sessionUid);
  }

  @Post('logout-all')
  @HttpCode(200)
  @Self('me:write')
  @ApiOperation({ summary: 'Sign out everywhere (same as DELETE /me/sessions)' })
  @ApiOkResponse({ type: RevokedSessionsDto })
  async logoutAll(
    @Param('tenant_id') t: string,
    @CurrentPrincipal() me: Principal,
  ): Promise<RevokedSessionsDto> {
    return { revoked: await this.sessions.revokeAll(t, selfId(me)) };
  }
}
