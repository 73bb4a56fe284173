import { Readable } from 'node:stream';
import {
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { PlatformAudit } from '../audit/platform-audit.interceptor.js';
import { Authenticated } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { badRequest } from '../common/problem.js';
import { ExportQuery, ImportQuery, ImportReportDto } from './dto/transfer.dto.js';
import { TransferService } from './transfer.service.js';

const PASSPHRASE_HEADER = {
  name: 'X-Transfer-Passphrase',
  required: false,
  description: 'the passphrase the document is (to be) sealed with; never logged',
};

@ApiTags('tenants')
@Controller('api/v1/tenants')
export class TransferController {
  constructor(private readonly transfer: TransferService) {}

  @Get(':tenant_id/export')
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOperation({
    summary: 'Export a tenant as an NDJSON document',
    description:
      'Streams header, tenant, signing keys (on request), clients, dynamic-registration tokens (as hashes), users, passkeys, TOTP, recovery codes, PIN/pattern credentials with their OPAQUE setup, groups, protected apps and an end record, one JSON object per line (decision 0024).',
  })
  @ApiHeader(PASSPHRASE_HEADER)
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'the document (application/x-ndjson)' })
  @ApiProblems(
    [400, 'no passphrase (or one too short) for secrets=passphrase'],
    [404, 'unknown tenant'],
  )
  @PlatformAudit('tenant.export')
  async export(
    @Param('tenant_id') tenantId: string,
    @Query() q: ExportQuery,
    @Headers('x-transfer-passphrase') passphrase?: string,
  ) {
    const stream = await this.transfer.export(tenantId, {
      secrets: q.secrets ?? 'passphrase',
      passphrase,
      signingKeys: q.signing_keys === 'true',
    });
    return new StreamableFile(stream, {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="${tenantId}.ndjson"`,
    });
  }

  @Post('import')
  @HttpCode(200)
  @Authenticated({ scope: 'operator', holders: ['operator'] })
  @ApiOperation({
    summary: 'Import a tenant from an NDJSON export',
    description:
      'Creates the tenant or converges an existing one to the document (ids are kept: a second import of the same document changes nothing). One transaction: a bad line leaves nothing behind.',
  })
  @ApiHeader(PASSPHRASE_HEADER)
  @ApiConsumes('application/x-ndjson')
  @ApiOkResponse({ type: ImportReportDto })
  @ApiProblems(
    [
      400,
      'not an export document, cut short, a bad record, a wrong passphrase, or tenant settings the settings API refuses (listed in errors)',
    ],
    [
      409,
      'a username, email or credential id held by another row, or PIN/pattern credentials made with another OPAQUE setup',
    ],
  )
  @PlatformAudit('tenant.import')
  import(
    @Req() req: FastifyRequest,
    @Query() q: ImportQuery,
    @Headers('x-transfer-passphrase') passphrase?: string,
  ): Promise<ImportReportDto> {
    if (!(req.body instanceof Readable)) {
      throw badRequest('Send the document as application/x-ndjson');
    }
    return this.transfer.import(req.body, { tenantId: q.tenant_id, passphrase });
  }
}
