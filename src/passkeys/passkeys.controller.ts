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
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyRequest } from 'fastify';
import { requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import {
  CeremonyOptionsDto,
  PasskeyDto,
  PasskeyPageDto,
  RegisterPasskeyDto,
  RenamePasskeyDto,
} from './dto/passkey.dto.js';
import { PasskeysService } from './passkeys.service.js';
import { ApiProblems } from '../common/api-docs.js';

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/passkeys')
export class MyPasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Get()
  @ApiOperation({ summary: 'List the caller’s passkeys' })
  @ApiProblems(404)
  @Self('me:read')
  @ApiOkResponse({ type: PasskeyPageDto })
  list(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Query() q: ListQuery,
  ) {
    return this.passkeys.list(tenantId, selfId(me), q);
  }

  @Post('registration-options')
  @ApiOperation({ summary: 'Start a passkey registration' })
  @ApiProblems(404)
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOkResponse({ type: CeremonyOptionsDto, description: 'good once, for five minutes' })
  registrationOptions(@Param('tenant_id') tenantId: string, @CurrentPrincipal() me: Principal) {
    return this.passkeys.registrationOptions(tenantId, selfId(me));
  }

  @Post('registration')
  @ApiOperation({ summary: 'Finish a passkey registration' })
  @ApiProblems(400, 404)
  @Self('me:credentials')
  @ApiCreatedResponse({ type: PasskeyDto })
  register(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: RegisterPasskeyDto,
    @Req() req: FastifyRequest,
  ) {
    return this.passkeys.verifyRegistration(
      tenantId,
      selfId(me),
      dto.challenge_id,
      dto.response as unknown as RegistrationResponseJSON,
      dto.name,
      requestContextOf(req, me),
    );
  }

  @Patch(':passkey_id')
  @ApiOperation({ summary: 'Rename one of the caller’s passkeys' })
  @ApiProblems(400, 404)
  @Self('me:write')
  @ApiOkResponse({ type: PasskeyDto })
  rename(
    @Param('tenant_id') tenantId: string,
    @Param('passkey_id') passkeyId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: RenamePasskeyDto,
    @Req() req: FastifyRequest,
  ) {
    return this.passkeys.rename(
      tenantId,
      selfId(me),
      passkeyId,
      dto.name,
      requestContextOf(req, me),
    );
  }

  @Delete(':passkey_id')
  @ApiOperation({ summary: 'Remove one of the caller’s passkeys' })
  @ApiProblems(404)
  @HttpCode(204)
  @Self('me:credentials')
  @ApiNoContentResponse()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('passkey_id') passkeyId: string,
    @CurrentPrincipal() me: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.passkeys.remove(tenantId, selfId(me), passkeyId, requestContextOf(req, me));
  }
}

@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/passkeys')
export class UserPasskeysAdminController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Get()
  @ApiOperation({ summary: 'List a user’s passkeys' })
  @ApiProblems(404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: PasskeyPageDto })
  list(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Query() q: ListQuery,
  ) {
    return this.passkeys.list(tenantId, userId, q);
  }

  @Delete(':passkey_id')
  @ApiOperation({ summary: 'Remove a user’s passkey' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Param('passkey_id') passkeyId: string,
  ) {
    await this.passkeys.remove(tenantId, userId, passkeyId);
  }
}
