import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsString, Length } from 'class-validator';
import { CurrentPrincipal, Self } from '../auth/auth.decorators.js';
import { USER_KEY_SCOPES, type Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyPageDto, ApiKeyWithSecretDto } from './dto/api-key.dto.js';

export class CreateOwnApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100 }) @IsString() @Length(1, 100) name!: string;
  @ApiProperty({ isArray: true, enum: USER_KEY_SCOPES })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(USER_KEY_SCOPES.length)
  @IsIn(USER_KEY_SCOPES, { each: true })
  scopes!: string[];
}

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

/**
 * The user's own API keys (for scripts acting as themselves). Minting, regenerating and
 * deleting one is a credential change: the user's own token from a recent sign-in.
 */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me/api-keys')
export class MyApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @Self('me:read')
  @ApiOperation({ summary: 'The own API keys (never their values)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Param('tenant_id') t: string, @CurrentPrincipal() me: Principal, @Query() q: ListQuery) {
    return this.keys.listOwn(t, selfId(me), q);
  }

  @Post()
  @Self('me:credentials')
  @ApiOperation({ summary: 'Create an own API key (scopes me:read, me:write); shown once' })
  @ApiCreatedResponse({ type: ApiKeyWithSecretDto })
  create(
    @Param('tenant_id') t: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: CreateOwnApiKeyDto,
  ) {
    return this.keys.createOwn(t, selfId(me), dto.name, dto.scopes);
  }

  @Post(':key_id/regenerate')
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOperation({ summary: 'New value for an own key; the old one stops working' })
  @ApiOkResponse({ type: ApiKeyWithSecretDto })
  regenerate(
    @Param('tenant_id') t: string,
    @Param('key_id') keyId: string,
    @CurrentPrincipal() me: Principal,
  ) {
    return this.keys.regenerateOwn(t, selfId(me), keyId);
  }

  @Delete(':key_id')
  @HttpCode(204)
  @Self('me:credentials')
  @ApiOperation({ summary: 'Delete an own API key' })
  @ApiNoContentResponse()
  async remove(
    @Param('tenant_id') t: string,
    @Param('key_id') keyId: string,
    @CurrentPrincipal() me: Principal,
  ) {
    await this.keys.removeOwn(t, selfId(me), keyId);
  }
}
