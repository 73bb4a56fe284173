import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../auth/auth.decorators.js';
import {
  resourceTypeById,
  resourceTypes,
  schemaById,
  schemas,
  serviceProviderConfig,
} from './scim.discovery.js';
import { ScimExceptionFilter } from './scim.errors.js';
import { SCIM, send } from './scim.reply.js';
import { ScimUsersService } from './scim-users.service.js';
import { ApiScim } from '../common/api-docs.js';

/** The SCIM discovery documents of a tenant (RFC 7644 §4): what the service provider supports. */
@ApiTags('scim')
@UseFilters(ScimExceptionFilter)
@Controller(':tenant_id/scim/v2')
export class ScimDiscoveryController {
  constructor(private readonly users: ScimUsersService) {}

  @Get('ServiceProviderConfig')
  @ApiOperation({ summary: 'SCIM service provider configuration' })
  @ApiScim({ status: 200, description: 'the ServiceProviderConfig resource' }, 404)
  @Authenticated(SCIM)
  serviceProviderConfig(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, serviceProviderConfig(this.users.base(tenantId)));
  }

  @Get('ResourceTypes')
  @ApiOperation({ summary: 'List SCIM resource types' })
  @ApiScim({ status: 200, description: 'a ListResponse of ResourceType resources' }, 404)
  @Authenticated(SCIM)
  resourceTypes(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, resourceTypes(this.users.base(tenantId)));
  }

  @Get('ResourceTypes/:id')
  @ApiOperation({ summary: 'Get a SCIM resource type' })
  @ApiScim({ status: 200, description: 'the ResourceType resource' }, 404)
  @Authenticated(SCIM)
  resourceType(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, resourceTypeById(this.users.base(tenantId), id));
  }

  @Get('Schemas')
  @ApiOperation({ summary: 'List SCIM schemas' })
  @ApiScim({ status: 200, description: 'a ListResponse of Schema resources' }, 404)
  @Authenticated(SCIM)
  schemas(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, schemas(this.users.base(tenantId)));
  }

  @Get('Schemas/:id')
  @ApiOperation({ summary: 'Get a SCIM schema' })
  @ApiScim({ status: 200, description: 'the Schema resource' }, 404)
  @Authenticated(SCIM)
  schema(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, schemaById(this.users.base(tenantId), id));
  }
}
