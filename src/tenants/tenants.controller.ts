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
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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

@ApiTags('tenants')
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiCreatedResponse({ type: TenantDto })
  @PlatformAudit('tenant.create')
  create(@Body() dto: CreateTenantDto) {
    return this.tenants.create(dto);
  }

  @Get()
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({ type: TenantPageDto })
  list(@Query() q: TenantListQuery) {
    return this.tenants.list(q);
  }

  @Get(':tenant_id')
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: TenantDto })
  get(@Param('tenant_id') tenantId: string) {
    return this.tenants.get(tenantId);
  }

  @Put(':tenant_id')
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({ type: TenantDto, description: 'settings not given return to their defaults' })
  @PlatformAudit('tenant.update')
  replace(@Param('tenant_id') tenantId: string, @Body() dto: ReplaceTenantDto) {
    return this.tenants.replace(tenantId, dto);
  }

  @Patch(':tenant_id')
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({ type: TenantDto, description: 'only the given settings change' })
  @PlatformAudit('tenant.update')
  update(@Param('tenant_id') tenantId: string, @Body() dto: UpdateTenantDto) {
    return this.tenants.update(tenantId, dto);
  }

  @Delete(':tenant_id')
  @HttpCode(204)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiNoContentResponse({ description: 'the tenant and everything it owns are gone' })
  @PlatformAudit('tenant.delete')
  async remove(@Param('tenant_id') tenantId: string) {
    await this.tenants.remove(tenantId);
  }
}
