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
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/passkeys')
export class MyPasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Get()
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
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOkResponse({ type: CeremonyOptionsDto, description: 'good once, for five minutes' })
  registrationOptions(@Param('tenant_id') tenantId: string, @CurrentPrincipal() me: Principal) {
    return this.passkeys.registrationOptions(tenantId, selfId(me));
  }

  @Post('registration')
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
