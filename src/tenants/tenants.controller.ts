import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
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
import { Authenticated } from '../auth/auth.decorators.js';
import {
  CreateTenantDto,
  ReplaceTenantDto,
  TenantDto,
  TenantListQuery,
  TenantPageDto,
  UpdateTenantDto,
} from './dto/tenant.dto.js';
import { TenantsService } from './tenants.service.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('tenants')
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a tenant' })
  @ApiProblems(400, 409)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiCreatedResponse({ type: TenantDto })
  @PlatformAudit('tenant.create')
  create(@Body() dto: CreateTenantDto) {
    return this.tenants.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List tenants' })
  @ApiProblems(400)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: TenantPageDto })
  list(@Query() q: TenantListQuery) {
    return this.tenants.list(q);
  }

  @Get(':tenant_id')
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiProblems(404)
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: TenantDto })
  get(@Param('tenant_id') tenantId: string) {
    return this.tenants.get(tenantId);
  }

  @Put(':tenant_id')
  @ApiOperation({ summary: 'Replace a tenant’s settings' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({ type: TenantDto, description: 'settings not given return to their defaults' })
  @PlatformAudit('tenant.update')
  replace(@Param('tenant_id') tenantId: string, @Body() dto: ReplaceTenantDto) {
    return this.tenants.replace(tenantId, dto);
  }

  @Patch(':tenant_id')
  @ApiOperation({ summary: 'Update some of a tenant’s settings' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({ type: TenantDto, description: 'only the given settings change' })
  @PlatformAudit('tenant.update')
  update(@Param('tenant_id') tenantId: string, @Body() dto: UpdateTenantDto) {
    return this.tenants.update(tenantId, dto);
  }

  @Delete(':tenant_id')
  @ApiOperation({ summary: 'Delete a tenant and everything it owns' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiNoContentResponse({ description: 'the tenant and everything it owns are gone' })
  @PlatformAudit('tenant.delete')
  async remove(@Param('tenant_id') tenantId: string) {
    await this.tenants.remove(tenantId);
  }
}
