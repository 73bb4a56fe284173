import { isValidTenantId } from '../../../libs/tenancy/index.js';
import { brandingOf, type Branding } from '../../tenants/branding.js';
import type { TenantsService } from '../../tenants/tenants.service.js';

/** The colour of a tenant that has chosen none (or an invalid one). */
export const DEFAULT_PRIMARY_COLOR = '#2b59c3';

/**
 * The branding of a page drawn without a tenant (unknown tenant, unexpected error): no logo,
 * the default colour, and the name of the area ("Sign in", "Account") in place of the tenant's.
 */
export function fallbackBranding(area = 'Sign in'): Branding {
  return { tenantId: '', displayName: area, logoUrl: null, primaryColor: null };
}

/** The branding of an existing tenant, or undefined when the id names none. */
export async function tenantBranding(
  tenants: TenantsService,
  tenantId: string,
): Promise<Branding | undefined> {
  if (!isValidTenantId(tenantId) || !(await tenants.exists(tenantId))) return undefined;
  return brandingOf(tenantId, await tenants.settings(tenantId));
}
