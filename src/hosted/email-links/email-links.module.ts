import { Module } from '@nestjs/common';
import { EmailFlowsModule } from '../../email-flows/email-flows.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { EmailLinkFlow } from './email-link.flow.js';
import { EmailLinksController } from './email-links.controller.js';

/** The pages of the mailed links: password reset, email verification, email change. */
@Module({
  imports: [OidcModule, EmailFlowsModule],
  controllers: [EmailLinksController],
  providers: [EmailLinkFlow],
})
export class EmailLinksModule {}
