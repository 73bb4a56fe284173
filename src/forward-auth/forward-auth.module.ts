import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientsModule } from '../clients/clients.module.js';
import { GroupsModule } from '../groups/groups.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { OidcProviders } from '../oidc/oidc-providers.service.js';
import { SessionEvents } from '../sessions/session-events.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { UserEvents } from '../users/user-events.js';
import { UsersModule } from '../users/users.module.js';
import { ForwardAuthController } from './forward-auth.controller.js';
import { ForwardAuthService } from './forward-auth.service.js';
import { ForwardSigninService } from './forward-signin.service.js';
import { ForwardAuthRevocationEntity, ProtectedAppEntity } from './protected-app.entity.js';
import { ProtectedAppsController } from './protected-apps.controller.js';
import { ProtectedAppTransfer } from './protected-app-transfer.js';
import { ProtectedAppsService } from './protected-apps.service.js';
import { ForwardAuthRevocations } from './revocations.js';

/** Forward-auth: protected apps, the reverse-proxy check, its sign-in (docs/decisions/0020). */
@Module({
  imports: [
    TenancyModule.forFeature([ProtectedAppEntity, ForwardAuthRevocationEntity]),
    TenantsModule,
    UsersModule,
    GroupsModule,
    ClientsModule,
    OidcModule,
    SessionsModule,
    SigningKeysModule,
  ],
  controllers: [ProtectedAppsController, ForwardAuthController],
  providers: [
    ProtectedAppsService,
    ForwardAuthRevocations,
    ForwardAuthService,
    ForwardSigninService,
    ProtectedAppTransfer,
  ],
  exports: [ProtectedAppTransfer],
})
export class ForwardAuthModule {
  constructor(
    revocations: ForwardAuthRevocations,
    sessions: SessionEvents,
    users: UserEvents,
    providers: OidcProviders,
  ) {
    // Every way a session ends voids its forward-auth cookies on every replica.
    sessions.subscribe((e) =>
      e.uid
        ? revocations.revokeSession(e.tenantId, e.uid)
        : revocations.revokeAccount(e.tenantId, e.accountId),
    );
    providers.onLogout((e) => revocations.revokeSession(e.tenantId, e.uid));
    users.subscribe(async (e) => {
      if (e.type === 'disabled' || e.type === 'deleted' || e.type === 'password_changed')
        await revocations.revokeAccount(e.tenantId, e.userId);
    });
  }
}
