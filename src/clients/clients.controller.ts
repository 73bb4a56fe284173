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
import { Authenticated, Public } from '../auth/auth.decorators.js';
import { ClientsService } from './clients.service.js';
import {
  ClientDisplayDto,
  ClientDto,
  ClientListQuery,
  ClientPageDto,
  ClientWithSecretDto,
  CreateClientDto,
  ReplaceClientDto,
  UpdateClientDto,
} from './dto/client.dto.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('clients')
@Controller('api/v1/tenants/:tenant_id/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Register an OAuth/OIDC client' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'clients:write' })
  @ApiCreatedResponse({
    type: ClientWithSecretDto,
    description: '`client_secret` (confidential clients) is shown only here',
  })
  create(@Param('tenant_id') tenantId: string, @Body() dto: CreateClientDto) {
    return this.clients.create(tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List clients' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'clients:read' })
  @ApiOkResponse({ type: ClientPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: ClientListQuery) {
    return this.clients.list(tenantId, q);
  }

  @Get(':client_id')
  @ApiOperation({ summary: 'Get a client' })
  @ApiProblems(404)
  @Authenticated({ scope: 'clients:read' })
  @ApiOkResponse({ type: ClientDto })
  get(@Param('tenant_id') tenantId: string, @Param('client_id') clientId: string) {
    return this.clients.get(tenantId, clientId);
  }

  @Put(':client_id')
  @ApiOperation({ summary: 'Replace a client' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'clients:write' })
  @ApiOkResponse({
    type: ClientDto,
    description: 'fields not given return to their defaults; the secret is kept',
  })
  replace(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @Body() dto: ReplaceClientDto,
  ) {
    return this.clients.replace(tenantId, clientId, dto);
  }

  @Patch(':client_id')
  @ApiOperation({ summary: 'Update some of a client’s fields' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'clients:write' })
  @ApiOkResponse({ type: ClientDto, description: 'only the given fields change' })
  update(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @Body() dto: UpdateClientDto,
  ) {
    return this.clients.update(tenantId, clientId, dto);
  }

  @Delete(':client_id')
  @ApiOperation({ summary: 'Delete a client' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'clients:write' })
  @ApiNoContentResponse()
  async remove(@Param('tenant_id') tenantId: string, @Param('client_id') clientId: string) {
    await this.clients.remove(tenantId, clientId);
  }

  @Post(':client_id/secret')
  @ApiOperation({ summary: 'Regenerate a client secret' })
  @ApiProblems(400, 404)
  @HttpCode(200)
  @Authenticated({ scope: 'clients:write' })
  @ApiOkResponse({
    type: ClientWithSecretDto,
    description: 'the new `client_secret`, shown only here; the old one stops working',
  })
  regenerateSecret(@Param('tenant_id') tenantId: string, @Param('client_id') clientId: string) {
    return this.clients.regenerateSecret(tenantId, clientId);
  }

  @Get(':client_id/display')
  @ApiOperation({ summary: 'Get what the login page shows for a client' })
  @Public()
  @ApiOkResponse({ type: ClientDisplayDto, description: 'what the hosted login page shows' })
  @ApiProblems([404, 'unknown tenant or client'])
  display(@Param('tenant_id') tenantId: string, @Param('client_id') clientId: string) {
    return this.clients.display(tenantId, clientId);
  }
}
