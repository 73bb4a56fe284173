import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module.js';
import { EmailFlowsModule } from '../email-flows/email-flows.module.js';
import { LoginModule } from '../hosted/interaction/login.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { HeadlessController, HeadlessInfoController } from './headless.controller.js';
import { HeadlessSignIn } from './headless-sign-in.service.js';
import { HeadlessStart } from './headless-start.js';

/**
 * The headless (JSON) sign-in under `/<tenant>/authn` for custom UIs: a front end of the same
 * sign-in rules the hosted pages run (src/hosted/interaction), never a second copy of them.
 */
@Module({
  imports: [LoginModule, OidcModule, ClientsModule, PasskeysModule, EmailFlowsModule, MfaModule],
  controllers: [HeadlessController, HeadlessInfoController],
  providers: [HeadlessSignIn, HeadlessStart],
})
export class HeadlessModule {}
