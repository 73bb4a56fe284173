import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantEvents } from '../../libs/tenancy/index.js';
import { TenantEntity } from './tenant.entity.js';
import { TenantsController } from './tenants.controller.js';
import { TenantsService } from './tenants.service.js';
import { TenantTransfer } from './tenant-transfer.js';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity])],
  controllers: [TenantsController],
  providers: [TenantsService, TenantEvents, TenantTransfer],
  exports: [TenantsService, TenantEvents, TenantTransfer],
})
export class TenantsModule {}
