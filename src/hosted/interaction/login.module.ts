import { Module, type OnModuleInit } from '@nestjs/common';
import { BlockerModule } from '../../blocker/blocker.module.js';
import { EmailFlowsModule } from '../../email-flows/email-flows.module.js';
import { MailModule } from '../../mail/mail.module.js';
import { MfaModule } from '../../mfa/mfa.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { PasskeysModule } from '../../passkeys/passkeys.module.js';
import { PinPatternModule } from '../../pin-pattern/pin-pattern.module.js';
import { PinPatternAssetsController } from '../assets/pin-pattern-assets.controller.js';
import { PinPatternLoginMethod } from './pin-pattern.method.js';
import { PinPatternEnrolmentStep } from './pin-pattern-enrolment.step.js';
import {
  PinPatternInteractionController,
  PinPatternSignInController,
} from './pin-pattern-sign-in.controller.js';
import { SessionsModule } from '../../sessions/sessions.module.js';
import { UsersModule } from '../../users/users.module.js';
import { SignInCompletion } from './completion.js';
import { ConsentStep } from './consent.step.js';
import { EmailCodeLoginMethod } from './email-code.method.js';
import { EmailCodeStep } from './email-code.step.js';
import { EnrolmentStep } from './enrolment.step.js';
import { FirstFactorStep } from './first-factor.step.js';
import { InteractionContext } from './interaction-context.js';
import { LoginController } from './login.controller.js';
import { LoginMethods } from './login-methods.js';
import { MagicLinkController } from './magic-link.controller.js';
import { MagicLinkLoginMethod } from './magic-link.method.js';
import { MagicLinkStep } from './magic-link.step.js';
import { SignInTokenController } from './sign-in-token.controller.js';
import { SignInTokenLoginMethod } from './sign-in-token.method.js';
import { SignInTokenStep } from './sign-in-token.step.js';
import { PasskeyLoginMethod } from './passkey.method.js';
import { PasswordLoginMethod } from './password.method.js';
import { SignInProgress } from './progress.js';
import { SecondFactorStep } from './second-factor.step.js';
import { SignInRules } from './sign-in-rules.js';
import { SignupStep } from './signup.step.js';
import { StipulationsController } from './stipulations.controller.js';
import { StipulationRules } from './stipulations.js';
import { StipulationActions } from './stipulation-actions.js';
import { StipulationPages } from './stipulation-pages.js';
import { StipulationsStep } from './stipulations.step.js';

/**
 * Hosted sign-in pages: the interaction context, one step per stage (first factor, email code,
 * second factor, enrolment, sign-up, consent). Sign-in methods are plug-ins
 * of LoginMethods, registered here in the order the login page shows them; other modules may
 * add theirs.
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
    PinPatternModule,
  ],
  controllers: [
    LoginController,
    PinPatternSignInController,
    PinPatternInteractionController,
    PinPatternAssetsController,
    MagicLinkController,
    SignInTokenController,
    StipulationsController,
  ],
  providers: [
    InteractionContext,
    SignInCompletion,
    FirstFactorStep,
    EmailCodeStep,
    SecondFactorStep,
    EnrolmentStep,
    SignInProgress,
    SignupStep,
    ConsentStep,
    SignInRules,
    LoginMethods,
    PasswordLoginMethod,
    PasskeyLoginMethod,
    EmailCodeLoginMethod,
    PinPatternLoginMethod,
    PinPatternEnrolmentStep,
    MagicLinkLoginMethod,
    MagicLinkStep,
    SignInTokenLoginMethod,
    SignInTokenStep,
    StipulationRules,
    StipulationPages,
    StipulationActions,
    StipulationsStep,
  ],
  // The headless API (src/headless) runs the same rules and steps as the pages.
  exports: [
    LoginMethods,
    SignInProgress,
    InteractionContext,
    SignInRules,
    SignInCompletion,
    SignupStep,
    PinPatternEnrolmentStep,
    StipulationRules,
    StipulationActions,
  ],
})
export class LoginModule implements OnModuleInit {
  constructor(
    private readonly methods: LoginMethods,
    private readonly password: PasswordLoginMethod,
    private readonly passkey: PasskeyLoginMethod,
    private readonly emailCode: EmailCodeLoginMethod,
    private readonly pinPattern: PinPatternLoginMethod,
    private readonly magicLink: MagicLinkLoginMethod,
  ) {}

  onModuleInit() {
    this.methods.register(this.password);
    this.methods.register(this.passkey);
    this.methods.register(this.emailCode);
    this.methods.register(this.pinPattern);
    this.methods.register(this.magicLink);
  }
}
