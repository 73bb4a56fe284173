import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { PasswordHasher } from './password-hasher.js';
import { UserRows } from './user-rows.js';
import { UserEvents } from './user-events.js';
import { TenantUserCountEntity, UserEntity } from './user.entity.js';
import { MeController } from './me.controller.js';
import { MeSections } from './me-sections.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { UserTransfer } from './user-transfer.js';

@Module({
  imports: [TenancyModule.forFeature([UserEntity, TenantUserCountEntity])],
  controllers: [UsersController, MeController],
  providers: [UsersService, UserEvents, PasswordHasher, UserRows, UserTransfer, MeSections],
  exports: [UsersService, UserEvents, PasswordHasher, UserRows, UserTransfer, MeSections],
})
export class UsersModule {}
