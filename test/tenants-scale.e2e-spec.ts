import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { createClient, createTenant, discover } from './oidc-support.js';
import { OidcProviders } from '../src/oidc/oidc-providers.service.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CACHE_SIZE = 5;

async function get(url: string) {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return r.json() as Promise<Record<string, unknown>>;
}

/**
 * What a tenant costs to hold (decision note 0035): no RSA key made while the tenant is
 * created, per-tenant state in memory only for tenants in use and bounded, and none left once
 * the tenant is deleted. The figures (CPU, RSS) live in `npm run bench:tenants`.
 */
describe('tenants at scale', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ env: { PROVIDER_CACHE_SIZE: String(CACHE_SIZE) } });
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const algsOf = async (tenantId: string): Promise<string[]> =>
    (
      (await db.query('SELECT alg FROM signing_keys WHERE tenant_id = $1 ORDER BY alg', [
        tenantId,
      ])) as Array<{ alg: string }>
    ).map((r) => r.alg);

  /** `idp_tenant_resident{kind=…}` as the metrics endpoint reports it. */
  const resident = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^idp_tenant_resident\{kind="(\w+)"\} (\d+)$/gm))
      out[m[1]] = Number(m[2]);
    return out;
  };

  const ccToken = async (tenantId: string, alg: string) => {
    const c = await createClient(t, tenantId, {
      client_type: 'confidential',
      grant_types: ['client_credentials'],
      id_token_signed_response_alg: alg,
    });
    const issuer = `${t.baseUrl}/${tenantId}`;
    const tokens = await client.clientCredentialsGrant(
      await discover(issuer, c.client_id, c.client_secret!),
    );
    return { issuer, token: tokens.access_token };
  };

  it('creates a tenant without making an RSA key, yet the tenant signs RS256 when asked', async () => {
    const tenantId = uniqueTenantId('lazy-rsa');
    await createTenant(t, tenantId);
    // Born with the cheap keys only: the RSA key is not made inside the create request.
    expect(await algsOf(tenantId)).toEqual(['ES256', 'EdDSA']);

    const { issuer, token } = await ccToken(tenantId, 'RS256');
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), {
      issuer,
      audience: issuer,
    });
    expect(payload.iss).toBe(issuer);
    // Made on first use, stored like the others, and listed by the API.
    expect(await algsOf(tenantId)).toEqual(['ES256', 'EdDSA', 'RS256']);
    const listed = await t.http('GET', `/api/v1/tenants/${tenantId}/signing-keys?limit=100`);
    expect(listed.status).toBe(200);
    expect((listed.body.data as Array<{ alg: string }>).map((k) => k.alg).toSorted()).toEqual([
      'ES256',
      'EdDSA',
      'RS256',
    ]);
  });

  it('lists all three keys of a tenant never used, making the RSA key then', async () => {
    const tenantId = uniqueTenantId('lazy-list');
    await createTenant(t, tenantId);
    const listed = await t.http('GET', `/api/v1/tenants/${tenantId}/signing-keys?limit=100`);
    expect(listed.status).toBe(200);
    expect(listed.body.total_count).toBe(3);
    expect(await algsOf(tenantId)).toEqual(['ES256', 'EdDSA', 'RS256']);
  });

  it('keeps no state for tenants defined but unused, and bounds what the visited ones keep', async () => {
    const before = await resident();
    const ids = Array.from({ length: 500 }, (_, i) => `${uniqueTenantId('idle')}-${i}`);
    await db.query(
      `INSERT INTO tenants (tenant_id, display_name, settings) SELECT id, id, '{}'::jsonb FROM unnest($1::text[]) AS id`,
      [ids],
    );
    // Defined is not resident.
    expect(await resident()).toEqual(before);
    // Visiting more tenants than the caches hold keeps them at their bounds: providers at the
    // cache size, discovery and JWKS documents (a few kB a tenant) at four times that.
    for (const id of ids.slice(0, CACHE_SIZE * 6)) {
      await get(`${t.baseUrl}/${id}/.well-known/openid-configuration`);
      await get(`${t.baseUrl}/${id}/jwks`);
    }
    const after = await resident();
    expect(after.providers).toBeLessThanOrEqual(CACHE_SIZE);
    expect(after.documents).toBeLessThanOrEqual(CACHE_SIZE * 4);
    expect(after.documents).toBeGreaterThan(CACHE_SIZE);
  });

  it('frees what a deleted tenant held: rows, documents and its provider', async () => {
    const tenantId = uniqueTenantId('deleted');
    await createTenant(t, tenantId);
    const { issuer } = await ccToken(tenantId, 'EdDSA');
    await get(`${issuer}/.well-known/openid-configuration`);
    await get(`${issuer}/jwks`);
    const providers = t.app.get(OidcProviders);
    // Only a weak reference here: the test must not be what keeps the provider alive.
    const weak = await providers.get(tenantId).then((p) => new WeakRef(p!.provider));
    const held = await resident();

    const r = await t.http('DELETE', `/api/v1/tenants/${tenantId}`);
    expect(r.status).toBe(204);
    const after = await resident();
    expect(after.providers).toBe(held.providers - 1);
    expect(after.documents).toBe(held.documents - 1);
    for (const table of ['signing_keys', 'clients', 'oidc_payloads']) {
      const [row] = (await db.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`,
        [tenantId],
      )) as Array<{ n: number }>;
      expect({ table, n: row.n }).toEqual({ table, n: 0 });
    }
    expect((await fetch(`${issuer}/.well-known/openid-configuration`)).status).toBe(404);
    // Nothing else keeps the provider reachable.
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    gc();
    expect(weak.deref()).toBeUndefined();
  });
});
