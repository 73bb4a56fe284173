import { Module } from '@nestjs/common';
import { BlockerModule } from '../../blocker/blocker.module.js';
import { ClientsModule } from '../../clients/clients.module.js';
import { MfaModule } from '../../mfa/mfa.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { PasskeysModule } from '../../passkeys/passkeys.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { UsersModule } from '../../users/users.module.js';
import { AccountController } from './account.controller.js';
import { AccountPasskeys } from './account-passkeys.js';
import { AccountTotp } from './account-totp.js';
import { AccountService } from './account.service.js';
import { EmailLinksModule } from '../email-links/email-links.module.js';
import { EmailFlowsModule } from '../../email-flows/email-flows.module.js';
import { PinPatternModule } from '../../pin-pattern/pin-pattern.module.js';
import { AccountEmail } from './account-email.js';
import { AccountDeviceLinks } from './account-device-links.js';
import { AccountConnected } from './account-connected.js';
import { UpstreamModule } from '../../upstream/upstream.module.js';

/** The self-service account page at /<tenant_id>/account, and the mailed links that land there. */
@Module({
  imports: [
    OidcModule,
    ClientsModule,
    UsersModule,
    MfaModule,
    PasskeysModule,
    SessionsModule,
    BlockerModule,
    EmailLinksModule,
    EmailFlowsModule,
    PinPatternModule,
    UpstreamModule,
  ],
  controllers: [AccountController],
  providers: [
    AccountService,
    AccountPasskeys,
    AccountTotp,
    AccountEmail,
    AccountDeviceLinks,
    AccountConnected,
  ],
})
export class AccountModule {}
