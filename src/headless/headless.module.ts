import { Module } from '@nestjs/common';
import { BlockerModule } from '../blocker/blocker.module.js';
import { ClientsModule } from '../clients/clients.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { EmailFlowsModule } from '../email-flows/email-flows.module.js';
import { LoginModule } from '../hosted/interaction/login.module.js';
import { UpstreamPagesModule } from '../hosted/upstream/upstream-pages.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { UserTokens } from '../access/user-tokens.js';
import { HeadlessController, HeadlessInfoController } from './headless.controller.js';
import { HeadlessSessionController } from './headless-session.controller.js';
import { HeadlessSessions } from './headless-session.js';
import { HeadlessMagicLinkController } from './headless-magic-link.controller.js';
import { HeadlessMagicLinks } from './headless-magic-link.service.js';
import { HeadlessSignIn } from './headless-sign-in.service.js';
import { HeadlessSignupController } from './headless-signup.controller.js';
import { HeadlessSignUp } from './headless-signup.service.js';
import { HeadlessStart } from './headless-start.js';
import { HeadlessStipulationController } from './headless-stipulation.controller.js';
import { UsernameAvailabilityController } from './username-availability.controller.js';

/**
 * The headless (JSON) sign-in under `/<tenant>/authn` for custom UIs: a front end of the same
 * sign-in rules the hosted pages run (src/hosted/interaction), never a second copy of them.
 */
@Module({
  imports: [
    LoginModule,
    UpstreamPagesModule,
    OidcModule,
    ClientsModule,
    SigningKeysModule,
    PasskeysModule,
    EmailFlowsModule,
    MfaModule,
    SessionsModule,
    UsersModule,
    BlockerModule,
  ],
  controllers: [
    HeadlessController,
    HeadlessInfoController,
    HeadlessSessionController,
    UsernameAvailabilityController,
    HeadlessStipulationController,
    HeadlessSignupController,
    HeadlessMagicLinkController,
  ],
  providers: [
    HeadlessSignIn,
    HeadlessSignUp,
    HeadlessMagicLinks,
    HeadlessStart,
    HeadlessSessions,
    UserTokens,
  ],
})
export class HeadlessModule {}
