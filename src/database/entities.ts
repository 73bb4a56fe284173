import { ApiKeyEntity } from '../api-keys/api-key.entity.js';
import { TenantEntity } from '../tenants/tenant.entity.js';

/** Every entity; modules register here so one DataSource knows the whole schema. */
export const entities = [TenantEntity, ApiKeyEntity];
