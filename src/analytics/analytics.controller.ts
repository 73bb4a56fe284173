import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { AnalyticsService } from './analytics.service.js';
import { LoginAnalyticsDto, LoginAnalyticsQuery, MethodCountsDto } from './dto/analytics.dto.js';

@ApiTags('analytics')
@ApiExtraModels(MethodCountsDto)
@Controller('api/v1/tenants/:tenant_id/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('logins')
  @Authenticated({ scope: 'analytics:read' })
  @ApiOkResponse({
    type: LoginAnalyticsDto,
    description: 'UTC buckets; at most 10,000 per request (400 otherwise)',
  })
  logins(@Param('tenant_id') tenantId: string, @Query() q: LoginAnalyticsQuery) {
    return this.analytics.logins(tenantId, q);
  }
}
