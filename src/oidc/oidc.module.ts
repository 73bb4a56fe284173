import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { ClientsModule } from '../clients/clients.module.js';
import { ClientsService } from '../clients/clients.service.js';
import { GroupsModule } from '../groups/groups.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { UsersModule } from '../users/users.module.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';
import { BackchannelLogoutEntity } from './backchannel-logout.entity.js';
import { OidcPayloadStore } from './oidc-payload.store.js';
import { OidcSessions } from './oidc-sessions.js';
import { LogoutPropagation } from './logout-propagation.js';
import { CLIENT_SOURCE, KEY_SOURCE, OidcProviders } from './oidc-providers.service.js';

/**
 * The per-tenant OpenID Providers (factory, storage adapter). They are mounted on the HTTP
 * server by `mountOidc` (oidc.mount.ts), called from createApp.
 */
@Module({
  imports: [
    TenancyModule.forFeature([OidcPayloadEntity, BackchannelLogoutEntity]),
    ClientsModule,
    SigningKeysModule,
    UsersModule,
    GroupsModule,
    BlockerModule,
  ],
  providers: [
    OidcPayloadStore,
    OidcSessions,
    OidcProviders,
    LogoutPropagation,
    { provide: CLIENT_SOURCE, useExisting: ClientsService },
    { provide: KEY_SOURCE, useExisting: SigningKeysService },
  ],
  exports: [OidcProviders, OidcPayloadStore, OidcSessions, LogoutPropagation],
})
export class OidcModule {}
