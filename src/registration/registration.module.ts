import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientsModule } from '../clients/clients.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { InitialTokensController } from './initial-tokens.controller.js';
import { RegistrationController } from './registration.controller.js';
import { ClientRegistrationEntity, InitialAccessTokenEntity } from './registration.entities.js';
import { RegistrationTransfer } from './registration-transfer.js';
import { RegistrationService } from './registration.service.js';

/** Dynamic client registration (RFC 7591/7592), per tenant, off by default. */
@Module({
  imports: [
    TenancyModule.forFeature([InitialAccessTokenEntity, ClientRegistrationEntity]),
    ClientsModule,
    TenantsModule,
  ],
  controllers: [InitialTokensController, RegistrationController],
  providers: [RegistrationService, RegistrationTransfer],
  exports: [RegistrationTransfer],
})
export class RegistrationModule {}
