import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module.js';
import { BlockerModule } from '../../blocker/blocker.module.js';
import { ClientsModule } from '../../clients/clients.module.js';
import { MfaModule } from '../../mfa/mfa.module.js';
import { PasskeysModule } from '../../passkeys/passkeys.module.js';
import { PinPatternModule } from '../../pin-pattern/pin-pattern.module.js';
import { SigningKeysModule } from '../../signing-keys/signing-keys.module.js';
import { TenantsModule } from '../../tenants/tenants.module.js';
import { UsersModule } from '../../users/users.module.js';
import { EamController } from './eam.controller.js';
import { EamFlowService } from './eam.flow.js';

/** Microsoft Entra ID external authentication method (seed: Authorize Mfa, Microsoft-Mfa-Form). */
@Module({
  imports: [
    TenantsModule,
    ClientsModule,
    UsersModule,
    MfaModule,
    PasskeysModule,
    PinPatternModule,
    BlockerModule,
    SigningKeysModule,
    AuditModule,
  ],
  controllers: [EamController],
  providers: [EamFlowService],
})
export class EamModule {}
