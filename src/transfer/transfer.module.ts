import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module.js';
import { ForwardAuthModule } from '../forward-auth/forward-auth.module.js';
import { GroupsModule } from '../groups/groups.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { PasskeysModule } from '../passkeys/passkeys.module.js';
import { PinPatternModule } from '../pin-pattern/pin-pattern.module.js';
import { RegistrationModule } from '../registration/registration.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { UsersModule } from '../users/users.module.js';
import { TransferController } from './transfer.controller.js';
import { TransferService } from './transfer.service.js';

/** Tenant export and import; the sections come from the modules that own the tables. */
@Module({
  imports: [
    UsersModule,
    ClientsModule,
    GroupsModule,
    MfaModule,
    PasskeysModule,
    SigningKeysModule,
    PinPatternModule,
    RegistrationModule,
    ForwardAuthModule,
    UpstreamModule,
  ],
  controllers: [TransferController],
  providers: [TransferService],
  exports: [TransferService],
})
export class TransferModule {}
