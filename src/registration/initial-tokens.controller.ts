import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
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
  InitialTokenPageDto,
  IssuedInitialTokenDto,
  IssueInitialTokenDto,
} from './dto/registration.dto.js';
import { RegistrationService } from './registration.service.js';

@ApiTags('dynamic-registration')
@Controller('api/v1/tenants/:tenant_id/initial-access-tokens')
export class InitialTokensController {
  constructor(private readonly registration: RegistrationService) {}

  @Post()
  @Authenticated({ scope: 'clients:write' })
  @ApiOperation({ summary: 'Issue an initial access token for dynamic client registration' })
  @ApiCreatedResponse({ type: IssuedInitialTokenDto })
  issue(@Param('tenant_id') tenantId: string, @Body() dto: IssueInitialTokenDto) {
    return this.registration.issueInitialToken(tenantId, dto);
  }

  @Get()
  @Authenticated({ scope: 'clients:read' })
  @ApiOperation({ summary: 'List initial access tokens (never the tokens themselves)' })
  @ApiOkResponse({ type: InitialTokenPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ListQuery) {
    return this.registration.listInitialTokens(tenantId, q);
  }

  @Delete(':token_id')
  @HttpCode(204)
  @Authenticated({ scope: 'clients:write' })
  @ApiOperation({ summary: 'Revoke an initial access token' })
  @ApiNoContentResponse()
  async revoke(@Param('tenant_id') tenantId: string, @Param('token_id') tokenId: string) {
    await this.registration.revokeInitialToken(tenantId, tokenId);
  }
}
