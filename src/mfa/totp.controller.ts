import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { notFound } from '../common/problem.js';
import {
  RecoveryCodesDto,
  TotpCodeDto,
  TotpConfirmedDto,
  TotpEnrolmentDto,
  TotpStatusDto,
} from './dto/totp.dto.js';
import { TotpService } from './totp.service.js';
import { ApiProblems } from '../common/api-docs.js';

/** The user a user key acts as; other holders never reach these routes. */
export function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/totp')
export class MyTotpController {
  constructor(private readonly totp: TotpService) {}

  @Get()
  @ApiOperation({ summary: 'Get the caller’s TOTP status' })
  @ApiProblems(404)
  @Self('me:read')
  @ApiOkResponse({ type: TotpStatusDto })
  status(@Param('tenant_id') tenantId: string, @CurrentPrincipal() me: Principal) {
    return this.totp.status(tenantId, selfId(me));
  }

  @Post()
  @ApiOperation({ summary: 'Start a TOTP enrolment' })
  @ApiProblems(404, 409)
  @Self('me:credentials')
  @ApiCreatedResponse({
    type: TotpEnrolmentDto,
    description: 'a pending enrolment; confirm it with a first code',
  })
  enrol(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Req() req: FastifyRequest,
  ) {
    return this.totp.enrol(tenantId, selfId(me), requestContextOf(req, me));
  }

  @Post('confirm')
  @ApiOperation({ summary: 'Confirm a TOTP enrolment with a first code' })
  @ApiProblems(400, 404, 409, 429)
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOkResponse({ type: TotpConfirmedDto, description: 'recovery codes are shown only here' })
  confirm(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: TotpCodeDto,
    @Req() req: FastifyRequest,
  ) {
    return this.totp.confirm(tenantId, selfId(me), dto.code, requestContextOf(req, me));
  }

  @Delete()
  @ApiOperation({ summary: 'Remove the caller’s TOTP' })
  @ApiProblems(400, 404, 409, 429)
  @HttpCode(204)
  @Self('me:credentials')
  @ApiNoContentResponse({ description: 'TOTP and its recovery codes are gone' })
  async disable(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: TotpCodeDto,
    @Req() req: FastifyRequest,
  ) {
    await this.totp.disable(tenantId, selfId(me), dto.code, requestContextOf(req, me));
  }

  @Post('recovery-codes')
  @ApiOperation({ summary: 'Regenerate the caller’s recovery codes' })
  @ApiProblems(400, 404, 409, 429)
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOkResponse({ type: RecoveryCodesDto, description: 'new codes; the old ones stop working' })
  regenerate(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: TotpCodeDto,
    @Req() req: FastifyRequest,
  ) {
    return this.totp.regenerateRecoveryCodes(
      tenantId,
      selfId(me),
      dto.code,
      requestContextOf(req, me),
    );
  }
}

@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/totp')
export class UserTotpAdminController {
  constructor(private readonly totp: TotpService) {}

  @Delete()
  @ApiOperation({ summary: 'Remove a user’s TOTP' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse({
    description: 'TOTP and recovery codes removed; the user can enrol again',
  })
  async reset(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    await this.totp.reset(tenantId, userId);
  }
}
