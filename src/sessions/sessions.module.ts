import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientsModule } from '../clients/clients.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { UsersModule } from '../users/users.module.js';
import { MyAppsController, MySignOutController } from './my-apps.controller.js';
import { MyAppsService } from './my-apps.service.js';
import { SessionSignInEntity } from './session-sign-in.entity.js';
import { MySessionsController, UserSessionsAdminController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

/** Users' OIDC sessions: list and revoke (API, account page); the login records sign-ins here. */
@Module({
  imports: [
    TenancyModule.forFeature([SessionSignInEntity]),
    OidcModule,
    UsersModule,
    ClientsModule,
  ],
  controllers: [
    MySessionsController,
    UserSessionsAdminController,
    MyAppsController,
    MySignOutController,
  ],
  providers: [SessionsService, MyAppsService],
  exports: [SessionsService],
})
export class SessionsModule {}
