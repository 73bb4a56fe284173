import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PlatformAudit } from '../audit/platform-audit.interceptor.js';
import { Authenticated, CurrentPrincipal, Public } from '../auth/auth.decorators.js';
import { SCOPES, type Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import { ApiKeysService } from './api-keys.service.js';
import {
  ApiKeyDto,
  ApiKeyPageDto,
  ApiKeyWithSecretDto,
  CreateApiKeyDto,
  ScopeDto,
  UpdateApiKeyDto,
} from './dto/api-key.dto.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('api-keys')
@Controller('api/v1/tenants/:tenant_id/api-keys')
export class TenantApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Authenticated({ scope: 'api-keys:write' })
  @ApiCreatedResponse({ type: ApiKeyWithSecretDto, description: '`api_key` is shown only here' })
  create(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() caller: Principal,
    @Body() dto: CreateApiKeyDto,
  ) {
    return this.keys.create(caller, tenantId, dto);
  }

  @Get()
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ListQuery) {
    return this.keys.list(tenantId, q);
  }

  @Get(':key_id')
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@Param('tenant_id') tenantId: string, @Param('key_id', uuid) keyId: string) {
    return this.keys.get(tenantId, keyId);
  }

  @Patch(':key_id')
  @Authenticated({ scope: 'api-keys:write' })
  @ApiOkResponse({ type: ApiKeyDto })
  update(
    @Param('tenant_id') tenantId: string,
    @Param('key_id', uuid) keyId: string,
    @CurrentPrincipal() caller: Principal,
    @Body() dto: UpdateApiKeyDto,
  ) {
    return this.keys.update(caller, tenantId, keyId, dto);
  }

  @Delete(':key_id')
  @HttpCode(204)
  @Authenticated({ scope: 'api-keys:write' })
  @ApiNoContentResponse()
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('key_id', uuid) keyId: string,
    @CurrentPrincipal() caller: Principal,
  ) {
    await this.keys.remove(caller, tenantId, keyId);
  }

  @Post(':key_id/regenerate')
  @HttpCode(200)
  @Authenticated({ scope: 'api-keys:write' })
  @ApiOkResponse({ type: ApiKeyWithSecretDto, description: 'the new `api_key`, shown only here' })
  regenerate(
    @Param('tenant_id') tenantId: string,
    @Param('key_id', uuid) keyId: string,
    @CurrentPrincipal() caller: Principal,
  ) {
    return this.keys.regenerate(caller, tenantId, keyId);
  }
}

@ApiTags('api-keys')
@Controller('api/v1/api-keys')
export class OperatorApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get('scopes')
  @Public()
  @ApiOkResponse({ type: [ScopeDto] })
  scopes(): ScopeDto[] {
    return Object.entries(SCOPES).map(([scope, description]) => ({ scope, description }));
  }

  @Post()
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiCreatedResponse({
    type: ApiKeyWithSecretDto,
    description: 'an operator key; `api_key` is shown only here',
  })
  @PlatformAudit('operator_key.create')
  create(@CurrentPrincipal() caller: Principal, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(caller, null, dto);
  }

  @Get()
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Query() q: ListQuery) {
    return this.keys.list(null, q);
  }

  @Get(':key_id')
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@Param('key_id', uuid) keyId: string) {
    return this.keys.get(null, keyId);
  }

  @Patch(':key_id')
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyDto })
  @PlatformAudit('operator_key.update')
  update(
    @Param('key_id', uuid) keyId: string,
    @CurrentPrincipal() caller: Principal,
    @Body() dto: UpdateApiKeyDto,
  ) {
    return this.keys.update(caller, null, keyId, dto);
  }

  @Delete(':key_id')
  @HttpCode(204)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiNoContentResponse()
  @PlatformAudit('operator_key.delete')
  async remove(@Param('key_id', uuid) keyId: string, @CurrentPrincipal() caller: Principal) {
    await this.keys.remove(caller, null, keyId);
  }

  @Post(':key_id/regenerate')
  @HttpCode(200)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyWithSecretDto })
  @PlatformAudit('operator_key.regenerate')
  regenerate(@Param('key_id', uuid) keyId: string, @CurrentPrincipal() caller: Principal) {
    return this.keys.regenerate(caller, null, keyId);
  }
}
