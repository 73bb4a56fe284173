import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { GroupsModule } from '../groups/groups.module.js';
import { UsersModule } from '../users/users.module.js';
import { ScimController } from './scim.controller.js';
import { ScimDiscoveryController } from './scim-discovery.controller.js';
import { problemPayloadAsScim, SCIM_CONTENT_TYPE, SCIM_PATH } from './scim.errors.js';
import { ScimBulkService } from './scim-bulk.service.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimUsersService } from './scim-users.service.js';

/** Inbound provisioning (SCIM 2.0) into the tenant's directory. */
@Module({
  imports: [UsersModule, GroupsModule],
  controllers: [ScimDiscoveryController, ScimController],
  providers: [ScimUsersService, ScimGroupsService, ScimBulkService],
})
export class ScimModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit() {
    // An application context without HTTP (the CLI on the database) has no server to hook.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', async (request, reply, payload) => {
      if (typeof payload !== 'string' || !SCIM_PATH.test(request.url)) return payload;
      if (!String(reply.getHeader('content-type') ?? '').startsWith('application/problem+json'))
        return payload;
      reply.header('content-type', SCIM_CONTENT_TYPE);
      return problemPayloadAsScim(reply.statusCode, payload);
    });
  }
}
