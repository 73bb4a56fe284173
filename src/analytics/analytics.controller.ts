import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { AnalyticsService } from './analytics.service.js';
import { LoginAnalyticsDto, LoginAnalyticsQuery, MethodCountsDto } from './dto/analytics.dto.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('analytics')
@ApiExtraModels(MethodCountsDto)
@Controller('api/v1/tenants/:tenant_id/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('logins')
  @ApiOperation({ summary: 'Sign-in counts per time bucket' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'analytics:read' })
  @ApiOkResponse({
    type: LoginAnalyticsDto,
    description: 'UTC buckets; at most 10,000 per request (400 otherwise)',
  })
  logins(@Param('tenant_id') tenantId: string, @Query() q: LoginAnalyticsQuery) {
    return this.analytics.logins(tenantId, q);
  }
}
