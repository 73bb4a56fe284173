import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { OperatorApiKeysController, TenantApiKeysController } from './api-keys.controller.js';
import { ApiKeysService, USER_DIRECTORY_PORT } from './api-keys.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), TenancyModule.forFeature([ApiKeyEntity])],
  controllers: [OperatorApiKeysController, TenantApiKeysController],
  providers: [
    ApiKeysService,
    // Replaced by the users module once the directory exists; until then no user id is known.
    { provide: USER_DIRECTORY_PORT, useValue: { userExists: async () => false } },
  ],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
