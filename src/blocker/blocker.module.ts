import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockEntity, PlatformBlockEntity } from './block.entity.js';
import { BlockerController, PlatformBlockerController } from './blocker.controller.js';
import { BlockerService } from './blocker.service.js';
import { PlatformBlocker } from './platform-blocker.service.js';

@Module({
  imports: [
    TenancyModule.forFeature([BlockEntity]),
    TypeOrmModule.forFeature([PlatformBlockEntity]),
  ],
  controllers: [BlockerController, PlatformBlockerController],
  providers: [BlockerService, PlatformBlocker],
  exports: [BlockerService, PlatformBlocker],
})
export class BlockerModule {}
