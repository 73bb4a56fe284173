import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockerModule } from '../blocker/blocker.module.js';
import { MfaModule } from '../mfa/mfa.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { UsersModule } from '../users/users.module.js';
import { OpaqueServer } from './opaque-server.js';
import { PinPatternController, UserPinPatternAdminController } from './pin-pattern.controller.js';
import {
  PinPatternCredentialEntity,
  PinPatternServerSetupEntity,
  PinPatternTicketEntity,
} from './pin-pattern.entities.js';
import { PinPatternService } from './pin-pattern.service.js';
import { PinPatternTransfer } from './pin-pattern-transfer.js';
import { PinPatternTickets } from './pin-pattern-tickets.js';

/** PIN and pattern sign-in (OPAQUE); PinPatternService.redeemNonce serves the hosted login. */
@Module({
  imports: [
    TenancyModule.forFeature([
      PinPatternCredentialEntity,
      PinPatternServerSetupEntity,
      PinPatternTicketEntity,
    ]),
    UsersModule,
    BlockerModule,
    MfaModule,
    TenantsModule,
  ],
  controllers: [PinPatternController, UserPinPatternAdminController],
  providers: [PinPatternService, OpaqueServer, PinPatternTickets, PinPatternTransfer],
  exports: [PinPatternService, PinPatternTransfer],
})
export class PinPatternModule {}
