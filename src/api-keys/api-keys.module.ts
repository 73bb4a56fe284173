import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { UsersModule } from '../users/users.module.js';
import { UsersService } from '../users/users.service.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { OperatorApiKeysController, TenantApiKeysController } from './api-keys.controller.js';
import { MyApiKeysController } from './my-api-keys.controller.js';
import { ApiKeysService, USER_DIRECTORY_PORT } from './api-keys.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([ApiKeyEntity]),
    TenancyModule.forFeature([ApiKeyEntity]),
    UsersModule,
  ],
  controllers: [OperatorApiKeysController, TenantApiKeysController, MyApiKeysController],
  providers: [ApiKeysService, { provide: USER_DIRECTORY_PORT, useExisting: UsersService }],
  exports: [ApiKeysService],
})
export class ApiKeysModule {}
