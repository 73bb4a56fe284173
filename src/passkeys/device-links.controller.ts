import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
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
import { ApiProblems } from '../common/api-docs.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import {
  CreateDeviceLinkDto,
  CreatedDeviceLinkDto,
  DeviceLinkPageDto,
} from './dto/device-link.dto.js';
import { DeviceLinksService } from './device-links.service.js';

const CREATE_DESCRIPTION =
  'A single-use, time-limited link that lets another device register a passkey for the user without a password (also the recovery path of passkey-only tenants). Its url is in this answer only (only a hash is stored); the user is mailed that a link exists (without the link) when mail is configured.';

/** The caller's own link for a new device. */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/device-links')
export class MyDeviceLinksController {
  constructor(private readonly links: DeviceLinksService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a link to add a passkey on another device',
    description: CREATE_DESCRIPTION,
  })
  @ApiProblems(400, 403, 404)
  @Self('me:credentials')
  @ApiCreatedResponse({ type: CreatedDeviceLinkDto })
  create(
    @Param('tenant_id') tenantId: string,
    @Body() dto: CreateDeviceLinkDto,
    @CurrentPrincipal() me: Principal,
    @Req() req: FastifyRequest,
  ): Promise<CreatedDeviceLinkDto> {
    if (!me.userId) throw notFound('User');
    return this.links.create(tenantId, me.userId, dto.expires_in, requestContextOf(req, me));
  }
}

/** An admin's device links for a user: create, list (never the secret), revoke. */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/device-links')
export class UserDeviceLinksController {
  constructor(private readonly links: DeviceLinksService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a link for a user to add a passkey on a new device',
    description: CREATE_DESCRIPTION,
  })
  @ApiProblems(400, 403, 404)
  @Authenticated({ scope: 'users:write' })
  @ApiCreatedResponse({ type: CreatedDeviceLinkDto })
  create(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: CreateDeviceLinkDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<CreatedDeviceLinkDto> {
    return this.links.create(tenantId, userId, dto.expires_in, requestContextOf(req, principal));
  }

  @Get()
  @ApiOperation({
    summary: 'List a user’s device links',
    description:
      'Newest first (sort_direction=1: oldest first); open, used, expired and revoked, never the link itself.',
  })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: DeviceLinkPageDto })
  list(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Query() q: ListQuery,
  ) {
    return this.links.list(tenantId, userId, q);
  }

  @Delete(':link_id')
  @ApiOperation({
    summary: 'Revoke a user’s device link',
    description:
      'An open link stops working at once; a used, expired or revoked one stays as it is.',
  })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse()
  async revoke(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Param('link_id') linkId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.links.revoke(tenantId, userId, linkId, requestContextOf(req, principal));
  }
}
