import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { UsersModule } from '../users/users.module.js';
import { PasskeyCredentialEntity, WebauthnChallengeEntity } from './passkey.entities.js';
import { MyPasskeysController, UserPasskeysAdminController } from './passkeys.controller.js';
import { PasskeysService } from './passkeys.service.js';
import { WebauthnChallenges } from './webauthn-challenges.js';
import { PasskeyTransfer } from './passkey-transfer.js';
import { DeviceLinkEntity } from './device-link.entity.js';
import { DeviceLinksService } from './device-links.service.js';
import { MyDeviceLinksController, UserDeviceLinksController } from './device-links.controller.js';
import { MailModule } from '../mail/mail.module.js';

/** Passkeys; PasskeysService.authenticationOptions / verifyAuthentication serve the hosted login. */
@Module({
  imports: [
    TenancyModule.forFeature([PasskeyCredentialEntity, WebauthnChallengeEntity, DeviceLinkEntity]),
    UsersModule,
    BlockerModule,
    MailModule,
  ],
  controllers: [
    MyPasskeysController,
    UserPasskeysAdminController,
    MyDeviceLinksController,
    UserDeviceLinksController,
  ],
  providers: [PasskeysService, WebauthnChallenges, PasskeyTransfer, DeviceLinksService],
  exports: [PasskeysService, PasskeyTransfer, DeviceLinksService],
})
export class PasskeysModule {}
