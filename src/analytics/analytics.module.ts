import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsService } from './analytics.service.js';
import {
  LoginActiveUsersEntity,
  LoginRollupEntity,
  LoginUserSeenEntity,
} from './login-rollup.entity.js';

@Module({
  imports: [
    TenancyModule.forFeature([LoginRollupEntity, LoginUserSeenEntity, LoginActiveUsersEntity]),
  ],
  controllers: [AnalyticsController],
  providers: [AnalyticsService],
  exports: [AnalyticsService],
})
export class AnalyticsModule {}
