import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AuditModule } from './audit/audit.module.js';
import { BlockerModule } from './blocker/blocker.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RedisModule } from './redis/redis.module.js';
import { AuthGuard } from './access/auth.guard.js';
import { UserTokens } from './access/user-tokens.js';
import { ClientsModule } from './clients/clients.module.js';
import { RegistrationModule } from './registration/registration.module.js';
import { ProblemFilter } from './common/problem.filter.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { DataSource } from 'typeorm';
import { Drain } from './common/drain.js';
import { dataSourceOptions } from './database/data-source.js';
import { entities } from './entities.js';
import { runMigrations } from './database/migrate.js';
import { SigningKeysModule } from './signing-keys/signing-keys.module.js';
import { LoginModule } from './hosted/interaction/login.module.js';
import { HeadlessModule } from './headless/headless.module.js';
import { OidcModule } from './oidc/oidc.module.js';
import { EventsModule } from './events/events.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { HealthController } from './health/health.controller.js';
import { HostedAssetsController } from './hosted/assets/assets.controller.js';
import { HostedPagesModule } from './hosted/hosted-pages.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { UsersModule } from './users/users.module.js';
import { ScimModule } from './scim/scim.module.js';
import { MfaModule } from './mfa/mfa.module.js';
import { PasskeysModule } from './passkeys/passkeys.module.js';
import { EmailFlowsModule } from './email-flows/email-flows.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { AccountModule } from './hosted/account/account.module.js';
import { UpstreamPagesModule } from './hosted/upstream/upstream-pages.module.js';
import { DeviceLinksPagesModule } from './hosted/device-links/device-links.module.js';
import { EamModule } from './hosted/entra-eam/eam.module.js';
import { ForwardAuthModule } from './forward-auth/forward-auth.module.js';
import { TransferModule } from './transfer/transfer.module.js';
import { UpstreamModule } from './upstream/upstream.module.js';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        HostedPagesModule,
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config, entities),
          // Migrations run before any module touches the schema (ApiKeys bootstrap reads it).
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options!).initialize();
            await runMigrations(ds, Boolean(config.databaseUrl));
            return ds;
          },
        }),
        RedisModule,
        MetricsModule,
        AuditModule,
        BlockerModule,
        AnalyticsModule,
        TenantsModule,
        EventsModule,
        IdempotencyModule,
        ApiKeysModule,
        UsersModule,
        GroupsModule,
        ClientsModule,
        RegistrationModule,
        SigningKeysModule,
        OidcModule,
        LoginModule,
        HeadlessModule,
        ScimModule,
        MfaModule,
        PasskeysModule,
        EmailFlowsModule,
        SessionsModule,
        AccountModule,
        UpstreamPagesModule,
        DeviceLinksPagesModule,
        EamModule,
        ForwardAuthModule,
        UpstreamModule,
        TransferModule,
      ],
      controllers: [HealthController, HostedAssetsController],
      providers: [
        UserTokens,
        Drain,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
