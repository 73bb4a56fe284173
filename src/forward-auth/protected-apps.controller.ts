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
import { Authenticated } from '../auth/auth.decorators.js';
import { ListQuery } from '../common/pagination.js';
import {
  CreateProtectedAppDto,
  ProtectedAppDto,
  ProtectedAppPageDto,
  ReplaceProtectedAppDto,
  UpdateProtectedAppDto,
} from './dto/protected-app.dto.js';
import { ProtectedAppsService } from './protected-apps.service.js';

@ApiTags('protected-apps')
@Controller('api/v1/tenants/:tenant_id/protected-apps')
export class ProtectedAppsController {
  constructor(private readonly apps: ProtectedAppsService) {}

  @Post()
  @Authenticated({ scope: 'protected-apps:write' })
  @ApiOperation({ summary: 'Protect an app behind a reverse proxy (forward-auth)' })
  @ApiCreatedResponse({ type: ProtectedAppDto })
  create(@Param('tenant_id') tenantId: string, @Body() dto: CreateProtectedAppDto) {
    return this.apps.create(tenantId, dto);
  }

  @Get()
  @Authenticated({ scope: 'protected-apps:read' })
  @ApiOperation({ summary: 'List protected apps (newest first unless sort_direction=1)' })
  @ApiOkResponse({ type: ProtectedAppPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ListQuery) {
    return this.apps.list(tenantId, q);
  }

  @Get(':app_id')
  @Authenticated({ scope: 'protected-apps:read' })
  @ApiOperation({ summary: 'Read a protected app' })
  @ApiOkResponse({ type: ProtectedAppDto })
  get(@Param('tenant_id') tenantId: string, @Param('app_id') appId: string) {
    return this.apps.get(tenantId, appId);
  }

  @Put(':app_id')
  @Authenticated({ scope: 'protected-apps:write' })
  @ApiOperation({ summary: 'Replace a protected app' })
  @ApiOkResponse({ type: ProtectedAppDto })
  replace(
    @Param('tenant_id') tenantId: string,
    @Param('app_id') appId: string,
    @Body() dto: ReplaceProtectedAppDto,
  ) {
    return this.apps.replace(tenantId, appId, dto);
  }

  @Patch(':app_id')
  @Authenticated({ scope: 'protected-apps:write' })
  @ApiOperation({ summary: 'Change some fields of a protected app' })
  @ApiOkResponse({ type: ProtectedAppDto })
  update(
    @Param('tenant_id') tenantId: string,
    @Param('app_id') appId: string,
    @Body() dto: UpdateProtectedAppDto,
  ) {
    return this.apps.update(tenantId, appId, dto);
  }

  @Delete(':app_id')
  @HttpCode(204)
  @Authenticated({ scope: 'protected-apps:write' })
  @ApiOperation({ summary: 'Stop protecting an app (its checks answer 401 from then on)' })
  @ApiNoContentResponse()
  remove(@Param('tenant_id') tenantId: string, @Param('app_id') appId: string) {
    return this.apps.remove(tenantId, appId);
  }
}
