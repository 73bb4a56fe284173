import { DataSource } from 'typeorm';
import { SecretBox } from '../libs/crypto/index.js';
import { AuditService } from '../src/audit/audit.service.js';
import { upstreamSecretAad } from '../src/upstream/upstream-providers.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const P = (code: string) => `urn:idp:problem:${code}`;
const providers = (tid: string) => `/api/v1/tenants/${tid}/upstream-providers`;

type Event = Record<string, unknown> & { type: string; details: Record<string, unknown> };

/** The upstream providers admin API (issue 21): presets, validation, the write-only secret. */
describe('upstream providers: admin API', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The suites' local issuers are http://127.0.0.1: OUTBOUND_ALLOW_PRIVATE, as in entra-eam.
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(() => t.close());

  async function events(tenantId: string, type: string): Promise<Event[]> {
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?limit=500&type=${encodeURIComponent(type)}`,
    );
    expect(r.status).toBe(200);
    return r.body.data;
  }

  it('fills each preset: google, microsoft (tenant or issuer), github (oauth2), apple (form_post)', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write']);
    const post = (body: Record<string, unknown>) => t.http('POST', providers(tid), { key, body });

    const google = await post({ provider_id: 'google', preset: 'google', client_id: 'g-id' });
    expect(google.status).toBe(201);
    expect(google.body).toMatchObject({
      provider_id: 'google',
      tenant_id: tid,
      kind: 'oidc',
      preset: 'google',
      label: 'Google',
      issuer: 'https://accounts.google.com',
      scopes: ['openid', 'email', 'profile'],
      pkce: true,
      response_mode: 'query',
      client_secret_set: false,
      jit_create: false,
      link_by_email: false,
      domain_hints: [],
      group_sync: false,
      group_mapping: {},
      second_factor: 'local',
      enabled: true,
      display_order: 0,
    });

    const entra = await post({
      provider_id: 'entra',
      preset: 'microsoft',
      microsoft_tenant: 'contoso.onmicrosoft.com',
      client_id: 'm-id',
    });
    expect(entra.body).toMatchObject({
      kind: 'oidc',
      label: 'Microsoft',
      issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
    });
    const common = await post({ provider_id: 'ms', preset: 'microsoft', client_id: 'm-id' });
    expect(common.body.issuer).toBe('https://login.microsoftonline.com/common/v2.0');
    const full = await post({
      provider_id: 'ms-full',
      preset: 'microsoft',
      client_id: 'm-id',
      issuer: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
    });
    expect(full.body.issuer).toBe(
      'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
    );

    const github = await post({
      provider_id: 'github',
      preset: 'github',
      client_id: 'gh',
      client_secret: 'gh-secret',
    });
    expect(github.body).toMatchObject({
      kind: 'oauth2',
      label: 'GitHub',
      issuer: null,
      authorization_endpoint: 'https://github.com/login/oauth/authorize',
      token_endpoint: 'https://github.com/login/oauth/access_token',
      userinfo_endpoint: 'https://api.github.com/user',
      scopes: ['read:user', 'user:email'],
      claim_mapping: { subject: 'id', username: 'login', email: 'email', name: 'name' },
      client_secret_set: true,
    });

    const apple = await post({ provider_id: 'apple', preset: 'apple', client_id: 'com.x.web' });
    expect(apple.body).toMatchObject({
      kind: 'oidc',
      issuer: 'https://appleid.apple.com',
      response_mode: 'form_post',
      scopes: ['name', 'email'],
    });

    // The admin's values win over the preset's.
    const custom = await post({
      provider_id: 'google-work',
      preset: 'google',
      client_id: 'g2',
      label: 'Google Workspace',
      scopes: ['openid', 'email'],
      claim_mapping: { username: 'email' },
    });
    expect(custom.body).toMatchObject({
      label: 'Google Workspace',
      scopes: ['openid', 'email'],
      claim_mapping: { username: 'email' },
    });
  });

  it('creates a generic OIDC provider, lists it paginated (oldest first with sort_direction=1), changes and deletes it', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write']);
    const reader = (
      await t.http('POST', `/api/v1/tenants/${tid}/api-keys`, {
        body: { name: 'reader', scopes: ['upstream-providers:read'] },
      })
    ).body.api_key as string;
    for (const [id, label, order] of [
      ['corp', 'Corporate', 2],
      ['b-idp', 'Beta', 1],
      ['a-idp', 'Alpha', 1],
    ] as const) {
      const r = await t.http('POST', providers(tid), {
        key,
        body: {
          provider_id: id,
          label,
          display_order: order,
          issuer: `https://${id}.example.test/realms/x`,
          client_id: `${id}-client`,
          client_secret: `${id}-secret`,
          icon_url: `https://${id}.example.test/icon.svg`,
          jit_create: true,
          domain_hints: [`${id}.example.test`],
        },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        kind: 'oidc',
        preset: null,
        scopes: ['openid', 'email', 'profile'],
      });
    }
    const first = await t.http('GET', `${providers(tid)}?limit=2&sort_direction=1`, {
      key: reader,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total_count: 3, has_next: true });
    expect(first.body.data.map((p: { provider_id: string }) => p.provider_id)).toEqual([
      'corp',
      'b-idp',
    ]);
    const second = await t.http('GET', `${providers(tid)}?limit=2&offset=2&sort_direction=1`, {
      key: reader,
    });
    expect(second.body).toMatchObject({ total_count: 3, has_next: false });
    expect(second.body.data.map((p: { provider_id: string }) => p.provider_id)).toEqual(['a-idp']);
    const newest = await t.http('GET', providers(tid), { key: reader });
    expect(newest.body.data[0].provider_id).toBe('a-idp');

    // The reader may not write; the writer may read.
    const refused = await t.http('POST', providers(tid), {
      key: reader,
      body: { provider_id: 'x', label: 'X', issuer: 'https://x.example.test', client_id: 'x' },
    });
    expect(refused.status).toBe(403);
    expect((await t.http('GET', `${providers(tid)}/corp`, { key })).status).toBe(200);

    const patched = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { label: 'Corp SSO', enabled: false, second_factor: 'skip', link_by_email: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      label: 'Corp SSO',
      enabled: false,
      second_factor: 'skip',
      link_by_email: true,
      jit_create: true,
      client_id: 'corp-client',
      client_secret_set: true,
    });
    // A GET body can be sent back: read-only fields are ignored, not refused.
    const roundTrip = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { ...patched.body, label: 'Corp' },
    });
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.body).toMatchObject({ provider_id: 'corp', kind: 'oidc', label: 'Corp' });

    expect((await t.http('DELETE', `${providers(tid)}/corp`, { key })).status).toBe(204);
    expect((await t.http('GET', `${providers(tid)}/corp`, { key })).status).toBe(404);
    expect((await t.http('DELETE', `${providers(tid)}/corp`, { key })).status).toBe(404);
    expect((await t.http('GET', providers(tid), { key })).body.total_count).toBe(2);
  });

  it('never returns the client secret; seals it bound to tenant and provider; PATCH replaces or clears it', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write']);
    const secret = 'upstream-secret-' + tid;
    const created = await t.http('POST', providers(tid), {
      key,
      body: {
        provider_id: 'corp',
        label: 'Corp',
        issuer: 'https://idp.example.test',
        client_id: 'c',
        client_secret: secret,
      },
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(secret);
    expect(created.body).not.toHaveProperty('client_secret');
    expect(created.body).not.toHaveProperty('client_secret_sealed');
    expect(created.body.client_secret_set).toBe(true);
    const read = await t.http('GET', `${providers(tid)}/corp`, { key });
    const list = await t.http('GET', providers(tid), { key });
    for (const r of [read, list]) expect(r.text).not.toContain(secret);

    const db = t.app.get(DataSource);
    const sealed = async () =>
      (
        await db.query(
          `SELECT client_secret_sealed FROM upstream_providers WHERE tenant_id = $1 AND provider_id = 'corp'`,
          [tid],
        )
      )[0].client_secret_sealed as string | null;
    const stored = await sealed();
    expect(stored).not.toContain(secret);
    const box = new SecretBox(t.config.masterKey);
    expect(box.openString(stored!, upstreamSecretAad(tid, 'corp'))).toBe(secret);
    // Bound to its owner: another tenant's (or provider's) AAD does not open it.
    expect(() => box.openString(stored!, upstreamSecretAad('other', 'corp'))).toThrow();
    expect(() => box.openString(stored!, upstreamSecretAad(tid, 'corp2'))).toThrow();

    const replaced = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { client_secret: 'second-secret' },
    });
    expect(replaced.body.client_secret_set).toBe(true);
    expect(box.openString((await sealed())!, upstreamSecretAad(tid, 'corp'))).toBe('second-secret');
    // A PATCH without the field keeps it.
    await t.http('PATCH', `${providers(tid)}/corp`, { key, body: { label: 'Corp 2' } });
    expect(box.openString((await sealed())!, upstreamSecretAad(tid, 'corp'))).toBe('second-secret');
    const cleared = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { client_secret: null },
    });
    expect(cleared.body.client_secret_set).toBe(false);
    expect(await sealed()).toBeNull();
  });

  it('refuses bad settings with 400 problems naming the field, and taken ids or hints with 409', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write', 'groups:write']);
    const post = (body: Record<string, unknown>) => t.http('POST', providers(tid), { key, body });
    const ok = { label: 'Corp', issuer: 'https://idp.example.test', client_id: 'c' };
    expect(
      (await post({ provider_id: 'corp', ...ok, domain_hints: ['corp.example'] })).status,
    ).toBe(201);
    const group = await t.http('POST', `/api/v1/tenants/${tid}/groups`, {
      key,
      body: { name: 'engineers' },
    });
    expect(group.status).toBe(201);

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ provider_id: 'Bad_Slug', ...ok }, 'provider_id'],
      [{ provider_id: '-dash', ...ok }, 'provider_id'],
      [{ provider_id: 'x'.repeat(64), ...ok }, 'provider_id'],
      [{ provider_id: 'p', ...ok, preset: 'facebook' }, 'preset'],
      [{ provider_id: 'p', ...ok, kind: 'saml' }, 'kind'],
      [{ provider_id: 'p', label: 'P', client_id: 'c' }, 'issuer'],
      [{ provider_id: 'p', ...ok, issuer: 'not a url' }, 'issuer'],
      [{ provider_id: 'p', ...ok, issuer: 'ftp://idp.example.test' }, 'issuer'],
      [{ provider_id: 'p', ...ok, issuer: 'https://idp.example.test/?x=1' }, 'issuer'],
      [{ provider_id: 'p', ...ok, icon_url: 'javascript:alert(1)' }, 'icon_url'],
      [{ provider_id: 'p', issuer: 'https://i.example.test', client_id: 'c' }, 'label'],
      [{ provider_id: 'p', kind: 'oauth2', label: 'O', client_id: 'c' }, 'authorization_endpoint'],
      [{ provider_id: 'p', ...ok, scopes: ['email'] }, 'scopes'],
      [{ provider_id: 'p', ...ok, scopes: ['has space'] }, 'scopes'],
      [{ provider_id: 'p', ...ok, response_mode: 'fragment' }, 'response_mode'],
      [{ provider_id: 'p', ...ok, second_factor: 'never' }, 'second_factor'],
      [{ provider_id: 'p', ...ok, domain_hints: ['Not A Domain'] }, 'domain_hints'],
      [{ provider_id: 'p', ...ok, claim_mapping: { username: 'a b' } }, 'claim_mapping.username'],
      [
        { provider_id: 'p', ...ok, group_mapping: { admins: 'not-a-uuid' } },
        'group_mapping.admins',
      ],
      [
        {
          provider_id: 'p',
          ...ok,
          group_mapping: { admins: '00000000-0000-4000-8000-000000000000' },
        },
        'group_mapping',
      ],
      [{ provider_id: 'p', ...ok, microsoft_tenant: 'contoso' }, 'microsoft_tenant'],
      [{ provider_id: 'p', ...ok, client_secret_sealed: 'x' }, 'client_secret_sealed'],
      [{ provider_id: 'p', ...ok, display_order: -1 }, 'display_order'],
    ];
    for (const [body, field] of bad) {
      const r = await post(body);
      expect([body, r.status]).toEqual([body, 400]);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect([body, r.body.errors.map((e: { field: string }) => e.field)]).toEqual([
        body,
        expect.arrayContaining([field]),
      ]);
    }
    expect((await t.http('GET', providers(tid), { key })).body.total_count).toBe(1);

    // A mapping to a group of the tenant is fine.
    const mapped = await post({
      provider_id: 'mapped',
      ...ok,
      group_sync: true,
      group_mapping: { eng: (group.body.group_id as string).toUpperCase() },
    });
    expect(mapped.status).toBe(201);
    expect(mapped.body.group_mapping).toEqual({ eng: group.body.group_id });

    const dup = await post({ provider_id: 'corp', ...ok });
    expect([dup.status, dup.body.type]).toEqual([409, P('conflict')]);
    const hint = await post({ provider_id: 'other', ...ok, domain_hints: ['corp.example'] });
    expect([hint.status, hint.body.errors[0].field]).toEqual([409, 'domain_hints']);
    const hintPatch = await t.http('PATCH', `${providers(tid)}/mapped`, {
      key,
      body: { domain_hints: ['corp.example'] },
    });
    expect(hintPatch.status).toBe(409);
    // PATCH validates the merged result: clearing the issuer of an oidc provider is refused.
    const noIssuer = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { issuer: null },
    });
    expect([noIssuer.status, noIssuer.body.errors[0].field]).toEqual([400, 'issuer']);
    const otherGroup = await t.http('PATCH', `${providers(tid)}/corp`, {
      key,
      body: { group_mapping: { x: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(otherGroup.status).toBe(400);
    expect((await t.http('GET', `${providers(tid)}/corp`, { key })).body.issuer).toBe(
      'https://idp.example.test',
    );
  });

  it("keeps tenants apart: tenant A's key gets 404 on tenant B's providers, B's groups are unknown to A", async () => {
    const a = await newTenant(t, ['upstream-providers:write', 'groups:write']);
    const b = await newTenant(t, ['upstream-providers:write', 'groups:write']);
    const body = {
      provider_id: 'corp',
      label: 'B',
      issuer: 'https://b.example.test',
      client_id: 'b',
    };
    expect((await t.http('POST', providers(b.tenantId), { key: b.key, body })).status).toBe(201);
    for (const [method, path, payload] of [
      ['GET', providers(b.tenantId), undefined],
      ['GET', `${providers(b.tenantId)}/corp`, undefined],
      ['PATCH', `${providers(b.tenantId)}/corp`, { label: 'taken over' }],
      ['DELETE', `${providers(b.tenantId)}/corp`, undefined],
      ['POST', providers(b.tenantId), { ...body, provider_id: 'evil' }],
    ] as const) {
      const r = await t.http(method, path, { key: a.key, body: payload });
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    // The same id in A is another provider.
    expect(
      (await t.http('POST', providers(a.tenantId), { key: a.key, body: { ...body, label: 'A' } }))
        .status,
    ).toBe(201);
    expect((await t.http('GET', `${providers(b.tenantId)}/corp`, { key: b.key })).body.label).toBe(
      'B',
    );
    const bGroup = await t.http('POST', `/api/v1/tenants/${b.tenantId}/groups`, {
      key: b.key,
      body: { name: 'b-group' },
    });
    const cross = await t.http('PATCH', `${providers(a.tenantId)}/corp`, {
      key: a.key,
      body: { group_mapping: { g: bGroup.body.group_id } },
    });
    expect(cross.status).toBe(400);
    // A tenant admin key holding tenants:write but not the new scopes is refused (403).
    const other = await newTenant(t, ['tenants:write', 'users:write']);
    expect((await t.http('GET', providers(other.tenantId), { key: other.key })).status).toBe(403);
  });

  it('records upstream_provider.created/updated/deleted with the key as actor, never the secret', async () => {
    const { tenantId: tid, key, keyId } = await newTenant(t, ['upstream-providers:write']);
    await t.http('POST', providers(tid), {
      key,
      body: { provider_id: 'gh', preset: 'github', client_id: 'c', client_secret: 'hush-1234' },
    });
    await t.http('PATCH', `${providers(tid)}/gh`, {
      key,
      body: { label: 'GitHub Enterprise', client_secret: 'hush-5678' },
    });
    await t.http('DELETE', `${providers(tid)}/gh`, { key });
    const created = await events(tid, 'upstream_provider.created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      actor_type: 'api_key',
      actor_id: keyId,
      subject_type: 'upstream_provider',
      subject_id: 'gh',
      details: { provider_id: 'gh', kind: 'oauth2', preset: 'github', client_secret_set: true },
    });
    const updated = await events(tid, 'upstream_provider.updated');
    expect(updated).toHaveLength(1);
    expect(updated[0].details).toEqual({
      provider_id: 'gh',
      changed: ['label'],
      client_secret: 'replaced',
    });
    expect((await events(tid, 'upstream_provider.deleted')).map((e) => e.subject_id)).toEqual([
      'gh',
    ]);
    const all = await t.http('GET', `/api/v1/tenants/${tid}/audit-events?limit=500`);
    expect(all.text).not.toContain('hush-');
  });

  it('goes with its tenant: deleting the tenant removes its providers', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write']);
    await t.http('POST', providers(tid), {
      key,
      body: { provider_id: 'google', preset: 'google', client_id: 'g' },
    });
    expect((await t.http('DELETE', `/api/v1/tenants/${tid}`)).status).toBe(204);
    const left = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM upstream_providers WHERE tenant_id = $1`, [tid]);
    expect(left[0].n).toBe(0);
  });
});

/** Without OUTBOUND_ALLOW_PRIVATE: URLs the server fetches must be https and public. */
describe('upstream providers: outbound URL rules', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('refuses http and internal addresses for what the server fetches', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['upstream-providers:write']);
    const post = (body: Record<string, unknown>) =>
      t.http('POST', providers(tid), {
        key,
        body: { provider_id: 'p', label: 'P', client_id: 'c', ...body },
      });
    for (const [body, field, message] of [
      [{ issuer: 'http://idp.example.test' }, 'issuer', 'must use https'],
      [{ issuer: 'https://127.0.0.1:8443' }, 'issuer', 'internal'],
      [{ issuer: 'https://10.1.2.3' }, 'issuer', 'internal'],
      [
        {
          kind: 'oauth2',
          authorization_endpoint: 'https://203.0.114.1/authorize',
          token_endpoint: 'https://192.168.1.1/token',
          userinfo_endpoint: 'https://203.0.114.1/user',
        },
        'token_endpoint',
        'internal',
      ],
      [
        { issuer: 'https://203.0.114.1', icon_url: 'http://203.0.114.1/i.png' },
        'icon_url',
        'https',
      ],
    ] as const) {
      const r = await post(body);
      expect([body, r.status]).toEqual([body, 400]);
      const error = r.body.errors.find((e: { field: string }) => e.field === field);
      expect([body, error?.message]).toEqual([body, expect.stringContaining(message)]);
    }
    const fine = await post({ issuer: 'https://203.0.114.1/realms/corp' });
    expect(fine.status).toBe(201);
  });
});
