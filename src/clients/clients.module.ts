import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientEntity } from './client.entity.js';
import { ClientsController } from './clients.controller.js';
import { ClientsService } from './clients.service.js';
import { ClientTransfer } from './client-transfer.js';

@Module({
  imports: [TenancyModule.forFeature([ClientEntity])],
  controllers: [ClientsController],
  providers: [ClientsService, ClientTransfer],
  exports: [ClientsService, ClientTransfer],
})
export class ClientsModule {}
