import { Inject } from '@nestjs/common';
import { tenantRepositoryToken } from './tenancy.module.js';

export { isTenantScopedSql, TenantRepository, type TenantOwned } from './tenant-repository.js';
export { TenancyModule, tenantRepositoryToken } from './tenancy.module.js';
export * from './tenant-id.js';

export const InjectTenantRepository = (entity: { name: string }) =>
  Inject(tenantRepositoryToken(entity));
export * from './tenant-events.js';
export { crossTenant, CrossTenantSql, type SqlRunner } from './cross-tenant-sql.js';
export * from './tenant-transfer.js';
