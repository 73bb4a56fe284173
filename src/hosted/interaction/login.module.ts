import { Module } from '@nestjs/common';
import { BlockerModule } from '../../blocker/blocker.module.js';
import { EmailFlowsModule } from '../../email-flows/email-flows.module.js';
import { MailModule } from '../../mail/mail.module.js';
import { MfaModule } from '../../mfa/mfa.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { PasskeysModule } from '../../passkeys/passkeys.module.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { UsersModule } from '../../users/users.module.js';
import { EmailCodeLoginMethod } from './email-code.method.js';
import { LoginController } from './login.controller.js';
import { LoginMethods } from './login-methods.js';
import { LoginService } from './login.service.js';
import { PasskeyLoginMethod } from './passkey.method.js';
import { PasswordLoginMethod } from './password.method.js';

/**
 * Hosted sign-in pages: the login form and its steps (second factor, enrolment, sign-up);
 * other modules add sign-in methods through LoginMethods.
 */
@Module({
  imports: [
    OidcModule,
    UsersModule,
    BlockerModule,
    MfaModule,
    PasskeysModule,
    SessionsModule,
    EmailFlowsModule,
    MailModule,
  ],
  controllers: [LoginController],
  providers: [
    LoginService,
    LoginMethods,
    PasswordLoginMethod,
    PasskeyLoginMethod,
    EmailCodeLoginMethod,
  ],
  exports: [LoginMethods],
})
export class LoginModule {}
