import createClient from 'openapi-fetch';
import type { components, paths } from '../generated/api.js';

/**
 * A typed client of the management API as an SDK user writes it: the types are generated from
 * openapi.json by openapi-typescript (`npm run openapi` writes test/generated/api.d.ts), the
 * calls go through openapi-fetch. test/typed-client.e2e-spec.ts compiles this file on its own
 * with strict settings and runs it against a server, so the document is proven usable.
 */
export type User = components['schemas']['UserDto'];
export type Problem = components['schemas']['ProblemDto'];

export function createApiClient(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { 'X-API-Key': apiKey } });
}

type ApiClient = ReturnType<typeof createApiClient>;

/** Creates a tenant with one user and lists its users: every path, body and answer is typed. */
export async function provisionTenant(
  api: ApiClient,
  tenantId: string,
  username: string,
): Promise<{ displayName: string; users: User[]; total: number }> {
  const tenant = await api.POST('/api/v1/tenants', {
    body: { tenant_id: tenantId, display_name: `Tenant ${tenantId}`, password_min_length: 10 },
  });
  if (!tenant.data) throw new Error(`create tenant: ${tenant.response.status}`);

  const created = await api.POST('/api/v1/tenants/{tenant_id}/users', {
    params: { path: { tenant_id: tenantId } },
    body: { username, email: `${username}@example.test`, locale: 'en-US', display_name: null },
  });
  if (!created.data) throw new Error(`create user: ${created.response.status}`);

  const list = await api.GET('/api/v1/tenants/{tenant_id}/users', {
    params: { path: { tenant_id: tenantId }, query: { limit: 10, sort_by: 'username' } },
  });
  if (!list.data) throw new Error(`list users: ${list.response.status}`);
  return {
    displayName: tenant.data.display_name,
    users: list.data.data,
    total: list.data.total_count,
  };
}

/** A 404 comes back as the typed problem document, not as an exception. */
export async function findUser(api: ApiClient, tenantId: string, username: string) {
  const { data, error, response } = await api.GET(
    '/api/v1/tenants/{tenant_id}/users/by-username/{username}',
    { params: { path: { tenant_id: tenantId, username } } },
  );
  const problem: Problem | undefined = error;
  return { user: data, problem, status: response.status };
}
