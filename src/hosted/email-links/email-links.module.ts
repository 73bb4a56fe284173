import { Module } from '@nestjs/common';
import { EmailFlowsModule } from '../../email-flows/email-flows.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { EmailLinkFlow } from './email-link.flow.js';
import { EmailLinksController } from './email-links.controller.js';
import { PinPatternLinkPages } from './pin-pattern-link.pages.js';

/** The pages of the mailed links: password and PIN/pattern reset, email verification and change. */
@Module({
  imports: [OidcModule, EmailFlowsModule],
  controllers: [EmailLinksController],
  providers: [EmailLinkFlow, PinPatternLinkPages],
})
export class EmailLinksModule {}
