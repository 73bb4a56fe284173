import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { UsersModule } from '../users/users.module.js';
import { PasskeyCredentialEntity, WebauthnChallengeEntity } from './passkey.entities.js';
import { MyPasskeysController, UserPasskeysAdminController } from './passkeys.controller.js';
import { PasskeysService } from './passkeys.service.js';
import { WebauthnChallenges } from './webauthn-challenges.js';
import { PasskeyTransfer } from './passkey-transfer.js';

/** Passkeys; PasskeysService.authenticationOptions / verifyAuthentication serve the hosted login. */
@Module({
  imports: [
    TenancyModule.forFeature([PasskeyCredentialEntity, WebauthnChallengeEntity]),
    UsersModule,
    BlockerModule,
  ],
  controllers: [MyPasskeysController, UserPasskeysAdminController],
  providers: [PasskeysService, WebauthnChallenges, PasskeyTransfer],
  exports: [PasskeysService, PasskeyTransfer],
})
export class PasskeysModule {}
