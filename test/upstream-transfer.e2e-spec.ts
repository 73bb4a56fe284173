import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { UpstreamProvidersService } from '../src/upstream/upstream-providers.service.js';
import * as fixtures from './fixtures.js';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';

const PASSPHRASE = 'a long transfer passphrase';

/** A second database on the same server, for the deployment the tenant moves to. */
async function secondDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${process.env.TEST_DATABASE_NAME}_uptarget`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const importDoc = (t: TestApp, doc: string, query = '', passphrase?: string) =>
  t.http('POST', `/api/v1/tenants/import${query}`, {
    body: doc,
    headers: {
      'content-type': 'application/x-ndjson',
      ...(passphrase ? { 'x-transfer-passphrase': passphrase } : {}),
    },
  });

const upstreamOf = (t: TestApp) => t.app.get(UpstreamProvidersService);

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Export/import (decision 0024) carries upstream providers, their secrets and the links. */
describe('upstream providers and links in a tenant export', () => {
  let source: TestApp;
  let target: TestApp;
  let db: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    db = await secondDatabase();
    source = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    target = await startTestApp({
      env: {
        DATABASE_URL: db.url,
        IDP_MASTER_KEY: randomBytes(32).toString('hex'),
        OUTBOUND_ALLOW_PRIVATE: 'true',
      },
    });
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    await db?.drop();
  });

  async function populated() {
    const { tenantId } = await fixtures.tenant(source);
    const alice = await fixtures.user(source, tenantId);
    const group = await source.http('POST', `/api/v1/tenants/${tenantId}/groups`, {
      body: { name: 'engineers' },
    });
    const base = `/api/v1/tenants/${tenantId}/upstream-providers`;
    const gh = await source.http('POST', base, {
      body: {
        provider_id: 'github',
        preset: 'github',
        client_id: 'gh-client',
        client_secret: 'gh-secret-value',
        jit_create: true,
        group_sync: true,
        group_mapping: { 'org/eng': group.body.group_id },
        domain_hints: ['example.org'],
        display_order: 3,
      },
    });
    expect(gh.status).toBe(201);
    const corp = await source.http('POST', base, {
      body: { provider_id: 'corp', label: 'Corp', issuer: 'https://corp.test', client_id: 'c' },
    });
    expect(corp.status).toBe(201);
    const linkId = (
      await source.app.get(DataSource).query(
        `INSERT INTO user_identity_links (tenant_id, user_id, provider_id, subject, email)
           VALUES ($1, $2, 'github', '583231', 'a@gh.test') RETURNING id`,
        [tenantId, alice.user_id],
      )
    )[0].id as string;
    return { tenantId, userId: alice.user_id as string, groupId: group.body.group_id, linkId };
  }

  it('moves providers with their client secret re-sealed for the target, and the links', async () => {
    const s = await populated();
    const exported = await source.http('GET', `/api/v1/tenants/${s.tenantId}/export`, {
      headers: { 'x-transfer-passphrase': PASSPHRASE },
    });
    expect(exported.status).toBe(200);
    const records = lines(exported.text);
    expect(exported.text).not.toContain('gh-secret-value');
    expect(records.filter((r) => r.type === 'upstream_provider').map((r) => r.provider_id)).toEqual(
      ['corp', 'github'],
    );
    expect(records.filter((r) => r.type === 'identity_link')).toEqual([
      expect.objectContaining({ id: s.linkId, user_id: s.userId, subject: '583231' }),
    ]);

    const copy = uniqueTenantId('up-copy');
    const imported = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(imported.status).toBe(200);
    expect(imported.body.counts).toMatchObject({ upstream_providers: 2, identity_links: 1 });
    expect(imported.body.counts.upstream_providers_without_secret).toBeUndefined();

    const gh = await target.http('GET', `/api/v1/tenants/${copy}/upstream-providers/github`);
    expect(gh.body).toMatchObject({
      kind: 'oauth2',
      preset: 'github',
      client_id: 'gh-client',
      client_secret_set: true,
      jit_create: true,
      group_mapping: { 'org/eng': s.groupId },
      domain_hints: ['example.org'],
      display_order: 3,
    });
    // Sealed for the target's master key and tenant id: it opens there, with the same value.
    const row = await upstreamOf(target).find(copy, 'github');
    expect(upstreamOf(target).openSecret(row!)).toBe('gh-secret-value');
    const sourceRow = await upstreamOf(source).find(s.tenantId, 'github');
    expect(row!.client_secret_sealed).not.toBe(sourceRow!.client_secret_sealed);

    const links = await target.http('GET', `/api/v1/tenants/${copy}/users/${s.userId}/identities`);
    expect(links.body.data).toEqual([
      expect.objectContaining({ id: s.linkId, provider_id: 'github', label: 'GitHub' }),
    ]);
    // A second import converges instead of failing or duplicating.
    const again = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(again.status).toBe(200);
    expect(
      (await target.http('GET', `/api/v1/tenants/${copy}/upstream-providers`)).body.total_count,
    ).toBe(2);
  });

  it('leaves the secret out on request and says so in the import report', async () => {
    const s = await populated();
    const bare = await source.http('GET', `/api/v1/tenants/${s.tenantId}/export?secrets=omit`);
    expect(bare.status).toBe(200);
    const gh = lines(bare.text).find(
      (r) => r.type === 'upstream_provider' && r.provider_id === 'github',
    );
    expect(gh).not.toHaveProperty('client_secret');
    expect(gh).toMatchObject({ client_secret_set: true });
    const copy = uniqueTenantId('up-bare');
    const imported = await importDoc(target, bare.text, `?tenant_id=${copy}`);
    expect(imported.status).toBe(200);
    expect(imported.body.counts).toMatchObject({
      upstream_providers: 2,
      upstream_providers_without_secret: 1,
    });
    const read = await target.http('GET', `/api/v1/tenants/${copy}/upstream-providers/github`);
    expect(read.body.client_secret_set).toBe(false);
  });
});
