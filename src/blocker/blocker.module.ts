import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { BlockEntity } from './block.entity.js';
import { BlockerController } from './blocker.controller.js';
import { BlockerService } from './blocker.service.js';

@Module({
  imports: [TenancyModule.forFeature([BlockEntity])],
  controllers: [BlockerController],
  providers: [BlockerService],
  exports: [BlockerService],
})
export class BlockerModule {}
