import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { MailModule } from '../mail/mail.module.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { PinPatternModule } from '../pin-pattern/pin-pattern.module.js';
import { UsersModule } from '../users/users.module.js';
import { EmailFlowsController } from './email-flows.controller.js';
import { EmailFlowsService } from './email-flows.service.js';
import { EmailTokenEntity } from './email-token.entity.js';
import { EmailTokensService } from './email-tokens.service.js';
import { LoginCodeService } from './login-code.service.js';
import {
  PinPatternLinksController,
  UserPinPatternLinksController,
} from './pin-pattern-links.controller.js';
import { PinPatternLinksService } from './pin-pattern-links.service.js';
import { MailLimits } from './mail-limits.js';
import { SecurityNotices } from './security-notices.js';
import { MailLimitEntity } from './mail-limit.entity.js';
import { MagicLinksService } from './magic-links.service.js';
import { SignInLinkEntity } from './sign-in-link.entity.js';
import { SignInTokensController } from './sign-in-tokens.controller.js';

/** Mailed links and codes; LoginCodeService serves the hosted login. */
@Module({
  imports: [
    TenancyModule.forFeature([EmailTokenEntity, MailLimitEntity, SignInLinkEntity]),
    MailModule,
    UsersModule,
    BlockerModule,
    PasskeysModule,
    PinPatternModule,
  ],
  controllers: [
    EmailFlowsController,
    PinPatternLinksController,
    UserPinPatternLinksController,
    SignInTokensController,
  ],
  providers: [
    EmailTokensService,
    EmailFlowsService,
    LoginCodeService,
    MailLimits,
    SecurityNotices,
    PinPatternLinksService,
    MagicLinksService,
  ],
  exports: [EmailFlowsService, LoginCodeService, PinPatternLinksService, MagicLinksService],
})
export class EmailFlowsModule {}
