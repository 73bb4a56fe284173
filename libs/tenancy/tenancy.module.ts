import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { TenantRepository, type TenantOwned } from './tenant-repository.js';

/** Injection token of the tenant-scoped repository for an entity class. */
export function tenantRepositoryToken(entity: { name: string }): string {
  return `TenantRepository<${entity.name}>`;
}

@Module({})
export class TenancyModule {
  /** Provides `TenantRepository<E>` for each entity, injected with `@InjectTenantRepository(E)`. */
  static forFeature(
    entities: Array<EntityTarget<TenantOwned & ObjectLiteral> & { name: string }>,
  ): DynamicModule {
    const providers: Provider[] = entities.map((entity) => ({
      provide: tenantRepositoryToken(entity),
      inject: [getDataSourceToken()],
      useFactory: (ds: DataSource) => new TenantRepository(ds, entity),
    }));
    return { module: TenancyModule, providers, exports: providers };
  }
}
