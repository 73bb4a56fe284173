import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type JWK } from 'jose';
import { DataSource } from 'typeorm';
import { SigningKeysService } from '../src/signing-keys/signing-keys.service.js';
import { waitUntil, elapse, newTenant, startTestApp, type TestApp } from './harness.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const path = (tenantId: string) => `/api/v1/tenants/${tenantId}/signing-keys`;

interface KeyDto {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  rotated_at: string | null;
  expires_at: string | null;
  public_jwk: Record<string, unknown>;
}

describe('signing keys', () => {
  let t: TestApp;
  let db: DataSource;
  let keys: SigningKeysService;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    keys = t.app.get(SigningKeysService);
  });
  afterAll(() => t.close());

  const list = async (tenantId: string, query = ''): Promise<KeyDto[]> => {
    const r = await t.http('GET', `${path(tenantId)}?limit=100${query}`);
    expect(r.status).toBe(200);
    return r.body.data;
  };

  it('gives a new tenant one active RS256, ES256 and EdDSA key, listed without private parts', async () => {
    const { tenantId, key } = await newTenant(t, ['signing-keys:read']);
    const r = await t.http('GET', path(tenantId), { key });
    expect(r.status).toBe(200);
    expect(r.body.total_count).toBe(3);
    const data: KeyDto[] = r.body.data;
    expect(data.map((k) => k.alg).toSorted()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(new Set(data.map((k) => k.kid)).size).toBe(3);
    for (const k of data) {
      expect(k).toEqual({
        kid: expect.any(String),
        alg: k.alg,
        state: 'active',
        created_at: expect.any(String),
        rotated_at: null,
        expires_at: null,
        public_jwk: expect.objectContaining({ kid: k.kid, alg: k.alg, use: 'sig' }),
      });
      for (const m of PRIVATE_MEMBERS) expect(k.public_jwk).not.toHaveProperty(m);
    }
    expect(r.text).not.toMatch(/"d"\s*:/);
    expect(data.find((k) => k.alg === 'RS256')!.public_jwk).toMatchObject({ kty: 'RSA' });
    expect(data.find((k) => k.alg === 'ES256')!.public_jwk).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
    });
    expect(data.find((k) => k.alg === 'EdDSA')!.public_jwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
    });
    const rsa = data.find((k) => k.alg === 'RS256')!.public_jwk;
    expect(Buffer.from(rsa.n as string, 'base64url').length * 8).toBe(2048);
  });

  it('stores private keys sealed: no private parameter appears in the row', async () => {
    const { tenantId } = await newTenant(t);
    const provider = await keys.providerJwks(tenantId);
    const rows: Array<Record<string, unknown>> = await db.query(
      'SELECT * FROM signing_keys WHERE tenant_id = $1',
      [tenantId],
    );
    expect(rows).toHaveLength(3);
    const dump = JSON.stringify(rows);
    for (const jwk of provider.keys) {
      expect(jwk.d).toEqual(expect.any(String));
      expect(dump).not.toContain(jwk.d);
      if (jwk.p) expect(dump).not.toContain(jwk.p);
    }
    for (const row of rows) {
      expect(row.private_jwk_sealed).toMatch(/^v1\./);
      for (const m of PRIVATE_MEMBERS) expect(row.public_jwk).not.toHaveProperty(m);
    }
    // a sealed private key copied to another key's row does not open (AAD binds tenant and kid)
    await db.query(
      `UPDATE signing_keys SET private_jwk_sealed = (SELECT private_jwk_sealed FROM signing_keys
        WHERE tenant_id = $1 AND alg = 'RS256') WHERE tenant_id = $1 AND alg = 'ES256'`,
      [tenantId],
    );
    await t.http('POST', `${path(tenantId)}/rotate`, { body: { alg: 'EdDSA' } }); // drops the cache
    await expect(keys.providerJwks(tenantId)).rejects.toThrow();
  });

  it('orders provider keys active first with RS256 leading; they sign what the public JWKS verifies', async () => {
    const { tenantId } = await newTenant(t);
    const provider = await keys.providerJwks(tenantId);
    const published = await keys.publicJwks(tenantId);
    expect(provider.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(published.keys.map((k) => k.kid)).toEqual(provider.keys.map((k) => k.kid));
    for (const k of provider.keys) expect(k).toMatchObject({ use: 'sig', kid: expect.any(String) });
    for (const k of published.keys) {
      for (const m of PRIVATE_MEMBERS) expect(k).not.toHaveProperty(m);
    }
    const jwks = createLocalJWKSet(published);
    for (const jwk of provider.keys) {
      const jws = await new CompactSign(new TextEncoder().encode(`signed with ${jwk.alg}`))
        .setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid })
        .sign(await importJWK(jwk, jwk.alg));
      const { payload } = await compactVerify(jws, jwks);
      expect(new TextDecoder().decode(payload)).toBe(`signed with ${jwk.alg}`);
    }
    // answers are copies: changing one does not change the next
    provider.keys[0].kid = 'tampered';
    expect((await keys.providerJwks(tenantId)).keys[0].kid).not.toBe('tampered');
  });

  it('rotates every alg: new keys lead, old ones stay in the JWKS in grace for 24 hours', async () => {
    const { tenantId, key } = await newTenant(t, ['signing-keys:write']);
    const before = await list(tenantId);
    const oldKids = before.map((k) => k.kid);
    const started = Date.now();
    const r = await t.http('POST', `${path(tenantId)}/rotate`, { key });
    expect(r.status).toBe(200);
    expect(r.body.created.map((k: KeyDto) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(r.body.created.every((k: KeyDto) => k.state === 'active')).toBe(true);
    expect(r.body.superseded.map((k: KeyDto) => k.kid).toSorted()).toEqual(oldKids.toSorted());
    for (const k of r.body.superseded as KeyDto[]) {
      expect(k.state).toBe('grace');
      expect(k.rotated_at).toEqual(expect.any(String));
      const grace = Date.parse(k.expires_at!) - started;
      expect(grace).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
      expect(grace).toBeLessThan(24 * 3600 * 1000 + 60_000);
    }
    expect(r.text).not.toMatch(/"d"\s*:/);

    const after = await list(tenantId);
    expect(after).toHaveLength(6);
    expect(
      after
        .filter((k) => k.state === 'active')
        .map((k) => k.kid)
        .toSorted(),
    ).toEqual(r.body.created.map((k: KeyDto) => k.kid).toSorted());
    expect((await list(tenantId, '&state=grace')).map((k) => k.kid).toSorted()).toEqual(
      oldKids.toSorted(),
    );

    const provider = await keys.providerJwks(tenantId);
    expect(provider.keys.slice(0, 3).map((k) => k.kid)).toEqual(
      r.body.created.map((k: KeyDto) => k.kid),
    );
    expect(
      provider.keys
        .slice(3)
        .map((k) => k.kid)
        .toSorted(),
    ).toEqual(oldKids.toSorted());
    const published = await keys.publicJwks(tenantId);
    expect(published.keys.map((k) => k.kid)).toEqual(provider.keys.map((k) => k.kid));
  });

  it('rotates one alg, and with grace_seconds 0 retires the old key at once', async () => {
    const { tenantId } = await newTenant(t);
    const before = await list(tenantId);
    const oldEs = before.find((k) => k.alg === 'ES256')!;
    const r = await t.http('POST', `${path(tenantId)}/rotate`, {
      body: { alg: 'ES256', grace_seconds: 0 },
    });
    expect(r.status).toBe(200);
    expect(r.body.created).toHaveLength(1);
    expect(r.body.superseded).toEqual([
      expect.objectContaining({ kid: oldEs.kid, state: 'retired' }),
    ]);
    const after = await list(tenantId);
    expect(
      after
        .filter((k) => k.state === 'active')
        .map((k) => k.alg)
        .toSorted(),
    ).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(after.find((k) => k.kid === oldEs.kid)!.state).toBe('retired');
    const published = await keys.publicJwks(tenantId);
    expect(published.keys.map((k) => k.kid)).not.toContain(oldEs.kid);
    expect(published.keys).toHaveLength(3);
    const [row] = await db.query(
      'SELECT private_jwk_sealed FROM signing_keys WHERE tenant_id = $1 AND kid = $2',
      [tenantId, oldEs.kid],
    );
    expect(row.private_jwk_sealed).toBeNull();
  });

  it('drops a grace key from the JWKS when its period ends, and the job retires it', async () => {
    const { tenantId } = await newTenant(t);
    const old = (await list(tenantId)).find((k) => k.alg === 'RS256')!;
    await t.http('POST', `${path(tenantId)}/rotate`, { body: { alg: 'RS256', grace_seconds: 1 } });
    expect((await keys.publicJwks(tenantId)).keys.map((k: JWK) => k.kid)).toContain(old.kid);
    // the cached JWKS does not outlive the grace period (one second of wall-clock time), even
    // before the job runs
    await waitUntil(
      'the grace period to end',
      async () => !(await keys.publicJwks(tenantId)).keys.some((k: JWK) => k.kid === old.kid),
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect((await keys.publicJwks(tenantId)).keys.map((k: JWK) => k.kid)).not.toContain(old.kid);
    expect((await keys.providerJwks(tenantId)).keys.map((k: JWK) => k.kid)).not.toContain(old.kid);
    expect((await list(tenantId)).find((k) => k.kid === old.kid)!.state).toBe('retired');
    expect((await list(tenantId, '&state=retired')).map((k) => k.kid)).toEqual([old.kid]);

    const changed: string[] = [];
    const { TenantEvents } = await import('../libs/tenancy/index.js');
    const off = t.app.get(TenantEvents).subscribe((e) => changed.push(e.tenantId));
    try {
      expect(await keys.retireExpiredKeys()).toBeGreaterThanOrEqual(1);
    } finally {
      off();
    }
    expect(changed).toContain(tenantId);
    const [row] = await db.query(
      'SELECT state, private_jwk_sealed FROM signing_keys WHERE tenant_id = $1 AND kid = $2',
      [tenantId, old.kid],
    );
    expect(row).toEqual({ state: 'retired', private_jwk_sealed: null });
  });

  it('keeps exactly one active key per alg under concurrent rotations', async () => {
    const { tenantId } = await newTenant(t);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        t.http('POST', `${path(tenantId)}/rotate`, { body: { alg: 'EdDSA' } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const active = (await list(tenantId, '&state=active')).filter((k) => k.alg === 'EdDSA');
    expect(active).toHaveLength(1);
    expect((await list(tenantId, '&state=grace')).filter((k) => k.alg === 'EdDSA')).toHaveLength(4);
  });

  it('creates the missing keys of a tenant that has none', async () => {
    const { tenantId } = await newTenant(t);
    await db.query('DELETE FROM signing_keys WHERE tenant_id = $1', [tenantId]);
    const provider = await keys.providerJwks(tenantId);
    expect(provider.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(await list(tenantId)).toHaveLength(3);
    expect((await keys.publicJwks('no-such-tenant-anywhere')).keys).toEqual([]);
  });

  it('validates the rotate body and never answers 500', async () => {
    const { tenantId } = await newTenant(t);
    for (const body of [
      { alg: 'HS256' },
      { alg: 'none' },
      { grace_seconds: -1 },
      { grace_seconds: 1.5 },
      { grace_seconds: '60' },
      { grace_seconds: 31 * 24 * 3600 },
      { surprise: true },
      [],
      '{broken',
    ]) {
      const r = await t.http('POST', `${path(tenantId)}/rotate`, { body });
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 400]);
    }
    const bad = await t.http('POST', `${path(tenantId)}/rotate`, {
      body: { alg: 'HS256', grace_seconds: -5 },
    });
    expect(bad.body.errors.map((e: { field: string }) => e.field).toSorted()).toEqual([
      'alg',
      'grace_seconds',
    ]);
    expect((await t.http('GET', `${path(tenantId)}?state=expired`)).status).toBe(400);
    expect((await list(tenantId)).every((k) => k.state === 'active')).toBe(true);
  });

  it('enforces scopes and keeps tenant keys inside their tenant', async () => {
    const reader = await newTenant(t, ['signing-keys:read']);
    expect((await t.http('GET', path(reader.tenantId), { key: reader.key })).status).toBe(200);
    expect(
      (await t.http('POST', `${path(reader.tenantId)}/rotate`, { key: reader.key })).status,
    ).toBe(403);
    const other = await newTenant(t, ['clients:write']);
    expect((await t.http('GET', path(other.tenantId), { key: other.key })).status).toBe(403);
    expect((await t.http('GET', path(other.tenantId), { key: null })).status).toBe(401);

    const a = await newTenant(t, ['signing-keys:write']);
    const b = await newTenant(t, ['signing-keys:write']);
    const bBefore = await list(b.tenantId);
    expect((await t.http('GET', path(b.tenantId), { key: a.key })).status).toBe(404);
    expect((await t.http('POST', `${path(b.tenantId)}/rotate`, { key: a.key })).status).toBe(404);
    expect(await list(b.tenantId)).toEqual(bBefore);
  });

  it('makes keys fast enough for bulk tenant creation', async () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) await newTenant(t);
    const perTenant = (performance.now() - started) / 20;
    // tenant + API key creation over HTTP, keys included; RSA keys come from a warm pool
    expect(perTenant).toBeLessThan(400);
  });
});

describe('signing keys on the embedded database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embedded: true });
  }, 60_000);
  afterAll(() => t.close());

  it('creates, rotates and retires keys on PGlite too', async () => {
    const { tenantId } = await newTenant(t);
    const keys = t.app.get(SigningKeysService);
    expect((await keys.providerJwks(tenantId)).keys.map((k) => k.alg)).toEqual([
      'RS256',
      'ES256',
      'EdDSA',
    ]);
    const r = await t.http('POST', `${path(tenantId)}/rotate`, {
      body: { alg: 'RS256', grace_seconds: 1 },
    });
    expect(r.status).toBe(200);
    const old = r.body.superseded[0].kid;
    expect((await keys.publicJwks(tenantId)).keys.map((k) => k.kid)).toContain(old);
    // On purpose: the one-second grace period has to pass on the clock before the job runs once
    // (polling the job would be the assertion itself).
    await elapse(1100);
    expect(await keys.retireExpiredKeys()).toBe(1);
    const rows = await t.app
      .get(DataSource)
      .query(
        'SELECT state, private_jwk_sealed FROM signing_keys WHERE tenant_id = $1 AND kid = $2',
        [tenantId, old],
      );
    expect(rows).toEqual([{ state: 'retired', private_jwk_sealed: null }]);
    expect((await keys.publicJwks(tenantId)).keys.map((k) => k.kid)).not.toContain(old);
  }, 30_000);
});
