import { Readable } from 'node:stream';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/auth.decorators.js';
import { AuditService } from './audit.service.js';
import { AuditEventPageDto, AuditQuery } from './dto/audit.dto.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('audit')
@Controller('api/v1/tenants/:tenant_id/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'List a tenant’s audit events' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'audit:read' })
  @ApiOkResponse({ type: AuditEventPageDto, description: 'newest first' })
  list(@Param('tenant_id') tenantId: string, @Query() q: AuditQuery) {
    return this.audit.list(tenantId, q);
  }

  @Get('export')
  @ApiOperation({ summary: 'Export a tenant’s audit events as NDJSON' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'audit:read' })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'every matching event, one JSON object per line, newest first' })
  export(@Param('tenant_id') tenantId: string, @Query() q: AuditQuery, @Res() reply: FastifyReply) {
    this.audit.checkQuery(q);
    const events = this.audit.export(tenantId, q);
    const lines = Readable.from(
      (async function* () {
        for await (const e of events) yield JSON.stringify(e) + '\n';
      })(),
    );
    void reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${tenantId}.ndjson"`)
      .send(lines);
  }
}
