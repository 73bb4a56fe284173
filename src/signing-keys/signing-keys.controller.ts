import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import {
  RotateSigningKeysDto,
  RotationResultDto,
  SigningKeyListQuery,
  SigningKeyPageDto,
} from './dto/signing-key.dto.js';
import { SigningKeysService } from './signing-keys.service.js';

@ApiTags('signing-keys')
@Controller('api/v1/tenants/:tenant_id/signing-keys')
export class SigningKeysController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get()
  @Authenticated({ scope: 'signing-keys:read' })
  @ApiOkResponse({ type: SigningKeyPageDto, description: 'metadata and public JWKs only' })
  list(@Param('tenant_id') tenantId: string, @Query() q: SigningKeyListQuery) {
    return this.keys.list(tenantId, q);
  }

  @Post('rotate')
  @HttpCode(200)
  @Authenticated({ scope: 'signing-keys:write' })
  @ApiOkResponse({ type: RotationResultDto })
  rotate(@Param('tenant_id') tenantId: string, @Body() dto: RotateSigningKeysDto) {
    return this.keys.rotate(tenantId, dto ?? {});
  }
}
