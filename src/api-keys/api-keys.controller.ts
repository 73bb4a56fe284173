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
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
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
import { ApiProblems } from '../common/api-docs.js';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('api-keys')
@Controller('api/v1/tenants/:tenant_id/api-keys')
export class TenantApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create a tenant API key' })
  @ApiProblems(400, 404)
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
  @ApiOperation({ summary: 'List a tenant’s API keys' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ListQuery) {
    return this.keys.list(tenantId, q);
  }

  @Get(':key_id')
  @ApiOperation({ summary: 'Get a tenant API key' })
  @ApiProblems(404)
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@Param('tenant_id') tenantId: string, @Param('key_id', uuid) keyId: string) {
    return this.keys.get(tenantId, keyId);
  }

  @Patch(':key_id')
  @ApiOperation({ summary: 'Update a tenant API key' })
  @ApiProblems(400, 404)
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
  @ApiOperation({ summary: 'Delete a tenant API key' })
  @ApiProblems(404)
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
  @ApiOperation({ summary: 'Regenerate a tenant API key’s secret' })
  @ApiProblems(404)
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
  @ApiOperation({ summary: 'List the scopes an API key can carry' })
  @Public()
  @ApiOkResponse({ type: [ScopeDto] })
  scopes(): ScopeDto[] {
    return Object.entries(SCOPES).map(([scope, description]) => ({ scope, description }));
  }

  @Post()
  @ApiOperation({ summary: 'Create an operator API key' })
  @ApiProblems(400)
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
  @ApiOperation({ summary: 'List operator API keys' })
  @ApiProblems(400)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Query() q: ListQuery) {
    return this.keys.list(null, q);
  }

  @Get(':key_id')
  @ApiOperation({ summary: 'Get an operator API key' })
  @ApiProblems(404)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@Param('key_id', uuid) keyId: string) {
    return this.keys.get(null, keyId);
  }

  @Patch(':key_id')
  @ApiOperation({ summary: 'Update an operator API key' })
  @ApiProblems(400, 404)
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
  @ApiOperation({ summary: 'Delete an operator API key' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiNoContentResponse()
  @PlatformAudit('operator_key.delete')
  async remove(@Param('key_id', uuid) keyId: string, @CurrentPrincipal() caller: Principal) {
    await this.keys.remove(caller, null, keyId);
  }

  @Post(':key_id/regenerate')
  @ApiOperation({ summary: 'Regenerate an operator API key’s secret' })
  @ApiProblems(404)
  @HttpCode(200)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: ApiKeyWithSecretDto })
  @PlatformAudit('operator_key.regenerate')
  regenerate(@Param('key_id', uuid) keyId: string, @CurrentPrincipal() caller: Principal) {
    return this.keys.regenerate(caller, null, keyId);
  }
}
