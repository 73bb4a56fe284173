import { Module } from '@nestjs/common';
import { BlockerModule } from '../blocker/blocker.module.js';
import { OidcModule } from '../oidc/oidc.module.js';
import { UsersModule } from '../users/users.module.js';
import { LoginController } from './login.controller.js';
import { LoginMethods } from './login-methods.js';
import { LoginService } from './login.service.js';
import { PasswordLoginMethod } from './password.method.js';

/** Hosted sign-in pages; other modules add sign-in methods through LoginMethods. */
@Module({
  imports: [OidcModule, UsersModule, BlockerModule],
  controllers: [LoginController],
  providers: [LoginService, LoginMethods, PasswordLoginMethod],
  exports: [LoginMethods],
})
export class LoginModule {}
