import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { GroupsModule } from '../groups/groups.module.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { PinPatternModule } from '../pin-pattern/pin-pattern.module.js';
import { MeSections } from '../users/me-sections.js';
import { UsersModule } from '../users/users.module.js';
import { IdentityLinkEntity } from './identity-link.entity.js';
import {
  MyIdentitiesController,
  UserIdentitiesAdminController,
} from './identity-links.controller.js';
import { IdentityLinksService } from './identity-links.service.js';
import { UpstreamProviderAdminService } from './upstream-provider-admin.service.js';
import { UpstreamProviderEntity } from './upstream-provider.entity.js';
import { UpstreamProvidersController } from './upstream-providers.controller.js';
import { UpstreamProvidersService } from './upstream-providers.service.js';
import { UpstreamTransfer } from './upstream-transfer.js';

/** Upstream identity providers and the users' links to them (issue 21). */
@Module({
  imports: [
    TenancyModule.forFeature([UpstreamProviderEntity, IdentityLinkEntity]),
    UsersModule,
    GroupsModule,
    PasskeysModule,
    PinPatternModule,
  ],
  controllers: [UpstreamProvidersController, MyIdentitiesController, UserIdentitiesAdminController],
  providers: [
    UpstreamProvidersService,
    UpstreamProviderAdminService,
    IdentityLinksService,
    UpstreamTransfer,
  ],
  exports: [UpstreamProvidersService, IdentityLinksService, UpstreamTransfer],
})
export class UpstreamModule {
  constructor(me: MeSections, links: IdentityLinksService) {
    // GET /me lists the account's linked identities.
    me.register('identities', (tenantId, userId) => links.views(tenantId, userId));
  }
}
