import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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

/** The SCIM discovery documents of a tenant (RFC 7644 §4): what the service provider supports. */
@ApiTags('scim')
@UseFilters(ScimExceptionFilter)
@Controller(':tenant_id/scim/v2')
export class ScimDiscoveryController {
  constructor(private readonly users: ScimUsersService) {}

  @Get('ServiceProviderConfig')
  @Authenticated(SCIM)
  serviceProviderConfig(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, serviceProviderConfig(this.users.base(tenantId)));
  }

  @Get('ResourceTypes')
  @Authenticated(SCIM)
  resourceTypes(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, resourceTypes(this.users.base(tenantId)));
  }

  @Get('ResourceTypes/:id')
  @Authenticated(SCIM)
  resourceType(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, resourceTypeById(this.users.base(tenantId), id));
  }

  @Get('Schemas')
  @Authenticated(SCIM)
  schemas(@Param('tenant_id') tenantId: string, @Res() reply: FastifyReply) {
    send(reply, 200, schemas(this.users.base(tenantId)));
  }

  @Get('Schemas/:id')
  @Authenticated(SCIM)
  schema(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, schemaById(this.users.base(tenantId), id));
  }
}
