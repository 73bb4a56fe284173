import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { MailModule } from '../mail/mail.module.js';
import { UsersModule } from '../users/users.module.js';
import { EmailFlowsController } from './email-flows.controller.js';
import { EmailFlowsService } from './email-flows.service.js';
import { EmailTokenEntity } from './email-token.entity.js';
import { EmailTokensService } from './email-tokens.service.js';
import { LoginCodeService } from './login-code.service.js';

/** Mailed links and codes; LoginCodeService serves the hosted login. */
@Module({
  imports: [TenancyModule.forFeature([EmailTokenEntity]), MailModule, UsersModule, BlockerModule],
  controllers: [EmailFlowsController],
  providers: [EmailTokensService, EmailFlowsService, LoginCodeService],
  exports: [EmailFlowsService, LoginCodeService],
})
export class EmailFlowsModule {}
