import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { PinPatternModule } from '../pin-pattern/pin-pattern.module.js';
import { UsersModule } from '../users/users.module.js';
import { IdentityLinkEntity } from './identity-link.entity.js';
import { IdentityLinksService } from './identity-links.service.js';
import { UpstreamProviderEntity } from './upstream-provider.entity.js';
import { UpstreamProvidersService } from './upstream-providers.service.js';

/** Upstream identity providers and the users' links to them (issue 21). */
@Module({
  imports: [
    TenancyModule.forFeature([UpstreamProviderEntity, IdentityLinkEntity]),
    UsersModule,
    PasskeysModule,
    PinPatternModule,
  ],
  providers: [UpstreamProvidersService, IdentityLinksService],
  exports: [UpstreamProvidersService, IdentityLinksService],
})
export class UpstreamModule {}
