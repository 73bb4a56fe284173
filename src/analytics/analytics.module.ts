import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsService } from './analytics.service.js';
import { LoginActiveUsersEntity, LoginRollupEntity } from './login-rollup.entity.js';

@Module({
  imports: [TenancyModule.forFeature([LoginRollupEntity, LoginActiveUsersEntity])],
  controllers: [AnalyticsController],
  providers: [AnalyticsService],
  exports: [AnalyticsService],
})
export class AnalyticsModule {}
