import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { PlatformAuditEventPageDto, PlatformAuditQuery } from './dto/platform-audit.dto.js';
import { PlatformAuditService } from './platform-audit.service.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('audit')
@Controller('api/v1/audit-events')
export class PlatformAuditController {
  constructor(private readonly audit: PlatformAuditService) {}

  @Get()
  @ApiOperation({ summary: 'List operator audit events' })
  @ApiProblems(400)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOkResponse({
    type: PlatformAuditEventPageDto,
    description:
      'operator actions (operator API keys, tenant create/update/delete), newest first by default',
  })
  list(@Query() q: PlatformAuditQuery) {
    return this.audit.list(q);
  }
}
