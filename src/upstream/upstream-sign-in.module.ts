import { Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module.js';
import { UsersModule } from '../users/users.module.js';
import { UpstreamClient } from './upstream-client.js';
import { UpstreamSignIn } from './upstream-sign-in.js';
import { UpstreamModule } from './upstream.module.js';

/**
 * Signing in through a tenant's upstream identity providers (issue 21): the openid-client side
 * (UpstreamClient) and who the upstream identity is here (UpstreamSignIn: link, JIT, groups).
 * The pages and routes are src/hosted/upstream's.
 */
@Module({
  imports: [UpstreamModule, UsersModule, GroupsModule],
  providers: [UpstreamClient, UpstreamSignIn],
  exports: [UpstreamModule, UpstreamClient, UpstreamSignIn],
})
export class UpstreamSignInModule {}
