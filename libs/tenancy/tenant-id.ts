export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Top-level path words a tenant id may not take, since tenants live at `/<tenant_id>`. */
export const RESERVED_TENANT_IDS = new Set([
  'api',
  'docs',
  'openapi.json',
  'health',
  'metrics',
  'static',
  'assets',
  '.well-known',
  'favicon.ico',
  'admin',
]);

export function tenantIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'must be a string';
  if (!TENANT_ID_PATTERN.test(id)) {
    return 'must be 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit';
  }
  if (RESERVED_TENANT_IDS.has(id)) return 'is a reserved word';
  return undefined;
}

export function isValidTenantId(id: unknown): id is string {
  return tenantIdProblem(id) === undefined;
}
