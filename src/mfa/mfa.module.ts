import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { UsersModule } from '../users/users.module.js';
import { RecoveryCodeEntity, UserTotpEntity } from './mfa.entities.js';
import { MyTotpController, UserTotpAdminController } from './totp.controller.js';
import { TotpService } from './totp.service.js';
import { MfaTransfer } from './mfa-transfer.js';

/** TOTP and recovery codes; TotpService is what the hosted login calls. */
@Module({
  imports: [
    TenancyModule.forFeature([UserTotpEntity, RecoveryCodeEntity]),
    UsersModule,
    BlockerModule,
  ],
  controllers: [MyTotpController, UserTotpAdminController],
  providers: [TotpService, MfaTransfer],
  exports: [TotpService, MfaTransfer],
})
export class MfaModule {}
