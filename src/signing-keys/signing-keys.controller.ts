import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import {
  RotateSigningKeysDto,
  RotationResultDto,
  SigningKeyListQuery,
  SigningKeyPageDto,
} from './dto/signing-key.dto.js';
import { SigningKeysService } from './signing-keys.service.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('signing-keys')
@Controller('api/v1/tenants/:tenant_id/signing-keys')
export class SigningKeysController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get()
  @ApiOperation({ summary: 'List a tenant’s signing keys' })
  @ApiProblems(404)
  @Authenticated({ scope: 'signing-keys:read' })
  @ApiOkResponse({ type: SigningKeyPageDto, description: 'metadata and public JWKs only' })
  list(@Param('tenant_id') tenantId: string, @Query() q: SigningKeyListQuery) {
    return this.keys.list(tenantId, q);
  }

  @Post('rotate')
  @ApiOperation({ summary: 'Rotate a tenant’s signing key' })
  @ApiProblems(400, 404)
  @HttpCode(200)
  @Authenticated({ scope: 'signing-keys:write' })
  @ApiOkResponse({ type: RotationResultDto })
  rotate(@Param('tenant_id') tenantId: string, @Body() dto: RotateSigningKeysDto) {
    return this.keys.rotate(tenantId, dto ?? {});
  }
}
