import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Browser, findForm } from './oidc-support.js';
import { startTestApp, uniqueTenantId, type TestApp, type TestResponse } from './harness.js';
import { PASSWORD, REDIRECT } from './fixtures.js';

function expectStatus(r: TestResponse, status: number) {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`);
}

/**
 * The contract test for clients written against the main seed (Secrets Vault OIDC Service):
 * each seed operation that has a counterpart here, sent with the seed's own request shapes
 * (field names, defaults, paging from page 0, the root authorize/token with tenant_id), and
 * read back the way such a client reads the answer.
 */
describe('seed contract (main seed request shapes)', () => {
  let t: TestApp;
  let tenantId: string;
  const api = (path: string) => `/api/v1/tenants/${tenantId}${path}`;

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = uniqueTenantId('seed');
    // Create Tenant: the seed's flat body with its defaults spelled out, `patter_size` included.
    const created = await t.http('POST', '/api/v1/tenants', {
      body: {
        tenant_id: tenantId,
        register_enable: false,
        is_2fa: false,
        use_pin: true,
        pin_size: 6,
        use_pattern: true,
        patter_size: 3,
        use_face_recognition: false,
        use_liveness: false,
        display_name: 'Seed tenant',
        show_pin_when_typing: true,
        block_config: {
          ip: { max_attempts: 50, window_seconds: 60, block_seconds: 60 },
          user: { max_attempts: 5, window_seconds: 60, block_seconds: 60 },
        },
        login_order: ['PIN', 'PATTERN'],
        passkey_enabled: false,
        has_username_and_email: true,
      },
    });
    expectStatus(created, 201);
  });
  afterAll(() => t.close());

  it('Health answers {status, version, env}', async () => {
    const r = await t.http('GET', '/health', { key: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', version: expect.any(String), env: expect.any(String) });
  });

  it('Create/Get/Update/Delete User, Get User By Name and List Users take the seed shapes', async () => {
    const userId = randomUUID();
    const seedUser = {
      user_id: userId,
      username: 'seed.user',
      email: 'seed.user@example.com',
      tenant_id: tenantId,
      is_disabled: false,
      is_verified: true,
      created_at: '2019-08-24T14:15:22Z',
      updated_at: null,
      locale: 'en',
      roles: ['reader'],
      external_id: 'hr-1',
    };
    const created = await t.http('POST', api('/users'), { body: seedUser });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({
      user_id: userId,
      username: 'seed.user',
      email: 'seed.user@example.com',
      tenant_id: tenantId,
      is_verified: true,
      locale: 'en',
      roles: ['reader'],
      external_id: 'hr-1',
    });

    // The same chosen id again is a conflict; another tenant's id in the body is refused.
    const twice = await t.http('POST', api('/users'), {
      body: { ...seedUser, username: 'seed.again', email: 'again@example.com' },
    });
    expect(twice.status).toBe(409);
    const alien = await t.http('POST', api('/users'), {
      body: { ...seedUser, user_id: randomUUID(), username: 'x', tenant_id: 'other' },
    });
    expect(alien.status).toBe(400);

    // The creation time the seed client sent is kept (moving users over keeps their history).
    expect(created.body.created_at).toBe('2019-08-24T14:15:22.000Z');
    const byName = await t.http('GET', api('/users/lookup?username=seed.user'));
    expect(byName.body.user_id).toBe(userId);

    // Update User: the seed sends the whole user object back, ids and timestamps included.
    const updated = await t.http('PUT', api(`/users/${userId}`), {
      body: { ...created.body, locale: 'de', roles: ['writer'] },
    });
    expectStatus(updated, 200);
    expect(updated.body).toMatchObject({ locale: 'de', roles: ['writer'] });

    // List Users: limit/offset, sort_direction -1 (newest first) by default, sort_by created_at.
    const other = await t.http('POST', api('/users'), {
      body: {
        ...seedUser,
        user_id: randomUUID(),
        username: 'seed.two',
        email: 'two@x.io',
        external_id: 'hr-2',
        created_at: undefined,
      },
    });
    expect(other.status).toBe(201);
    const list = await t.http('GET', api('/users?username=seed&limit=10&offset=0'));
    expect(list.body.data.map((u: { username: string }) => u.username)).toEqual([
      'seed.two',
      'seed.user',
    ]);
    expect(list.body).toMatchObject({ has_next: false, total_count: 2 });

    expect((await t.http('DELETE', api(`/users/${other.body.user_id}`))).status).toBe(204);
    expect((await t.http('GET', api(`/users/${other.body.user_id}`))).status).toBe(404);
  });

  it('Batch Create User and Batch Delete User answer the seed counters', async () => {
    const users = ['b1', 'b2'].map((username) => ({
      user_id: randomUUID(),
      username,
      email: `${username}@example.com`,
      tenant_id: tenantId,
      is_disabled: false,
      is_verified: false,
    }));
    const batch = await t.http('POST', api('/users/batch'), { body: { users } });
    expectStatus(batch, 200);
    expect(batch.body).toMatchObject({
      success_created_count: 2,
      fail_create_usernames: [],
      duplicate_usernames: [],
    });
    const again = await t.http('POST', api('/users/batch'), { body: { users } });
    expect(again.body).toMatchObject({
      success_created_count: 0,
      duplicate_usernames: ['b1', 'b2'],
    });
    const removed = await t.http('POST', api('/users/batch-delete'), {
      body: { users_ids: users.map((u) => u.user_id) },
    });
    expect(removed.status).toBeLessThan(300);
    expect((await t.http('GET', api(`/users/${users[0].user_id}`))).status).toBe(404);
  });

  it('Create Client takes sing_alg, post_logout_redirect_uri, op_* URLs and a chosen secret', async () => {
    const secret = 'Sx7-kP2q_Vd9Lm4RtZ8wYb3Nc6Hf1Jg5Ae0Ui';
    const body = {
      client_id: 'seed-app',
      name: 'Seed app',
      tenant_id: tenantId,
      redirect_uris: [REDIRECT],
      post_logout_redirect_uri: ['https://app.example.com/bye'],
      allowed_scopes: ['openid', 'profile', 'email'],
      token_endpoint_auth_method: 'client_secret_post',
      logo_uri: 'https://app.example.com/logo.png',
      op_policy_url: 'https://app.example.com/privacy',
      op_tos_url: 'https://app.example.com/tos',
      op_user_agreement_url: 'https://app.example.com/agreement',
      client_uri: 'https://app.example.com',
      client_logout_uri: 'https://app.example.com/logout',
      register_enable: false,
      tenant_name: 'ignored',
      client_secret: secret,
      client_type: 'confidential',
      is_lock: false,
      sing_alg: 'EdDSA',
    };
    const created = await t.http('POST', api('/clients'), { body });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({
      client_id: 'seed-app',
      tenant_id: tenantId,
      client_secret: secret,
      sing_alg: 'EdDSA',
      id_token_signed_response_alg: 'EdDSA',
      post_logout_redirect_uri: ['https://app.example.com/bye'],
      post_logout_redirect_uris: ['https://app.example.com/bye'],
      op_policy_url: 'https://app.example.com/privacy',
      policy_uri: 'https://app.example.com/privacy',
      op_tos_url: 'https://app.example.com/tos',
      op_user_agreement_url: 'https://app.example.com/agreement',
    });
    const read = await t.http('GET', api('/clients/seed-app'));
    expect(read.body).not.toHaveProperty('client_secret');
    expect(read.body.sing_alg).toBe('EdDSA');

    // Update Client: the whole seed object again, with another algorithm.
    const replaced = await t.http('PUT', api('/clients/seed-app'), {
      body: { ...body, client_secret: undefined, sing_alg: 'RS256' },
    });
    expectStatus(replaced, 200);
    expect(replaced.body).toMatchObject({ sing_alg: 'RS256', op_tos_url: body.op_tos_url });

    // Weak chosen secrets, disagreeing names and another tenant's id are refused.
    for (const bad of [
      { ...body, client_id: 'weak', client_secret: 'short' },
      { ...body, client_id: 'rep', client_secret: 'ab'.repeat(20) },
      { ...body, client_id: 'pub', client_type: 'public', token_endpoint_auth_method: 'none' },
      { ...body, client_id: 'both', id_token_signed_response_alg: 'ES256' },
      { ...body, client_id: 'alien', tenant_id: 'another-tenant' },
      { ...body, client_id: 'alg', sing_alg: 'HS256' },
    ]) {
      const r = await t.http('POST', api('/clients'), { body: bad });
      expect([bad.client_id, r.status, r.headers.get('content-type')]).toEqual([
        bad.client_id,
        400,
        expect.stringContaining('application/problem+json'),
      ]);
    }
  });

  it('Create User Key takes the seed body (name, scopes, tenant_id); Get Keys Scopes lists scopes', async () => {
    const created = await t.http('POST', api('/api-keys'), {
      body: { name: 'seed key', scopes: ['users:read'], tenant_id: tenantId },
    });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({
      key_id: expect.any(String),
      tenant_id: tenantId,
      name: 'seed key',
      scopes: ['users:read'],
      is_active: true,
      api_key: expect.any(String),
    });
    expect(created.body).not.toHaveProperty('key_hash');
    const used = await t.http('GET', api('/users?limit=1'), { key: created.body.api_key });
    expect(used.status).toBe(200);
    const regenerated = await t.http('POST', api(`/api-keys/${created.body.key_id}/regenerate`));
    expectStatus(regenerated, 200);
    expect(regenerated.body.api_key).not.toBe(created.body.api_key);
    const alien = await t.http('POST', api('/api-keys'), {
      body: { name: 'x', scopes: ['users:read'], tenant_id: 'another-tenant' },
    });
    expect(alien.status).toBe(400);
    const scopes = await t.http('GET', '/api/v1/api-keys/scopes');
    expect(scopes.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ scope: 'users:read' })]),
    );
    expect((await t.http('DELETE', api(`/api-keys/${created.body.key_id}`))).status).toBe(204);
  });

  it('Get Client, Get Client Tenant and its signed form answer the public seed shapes', async () => {
    const c = await t.http('POST', api('/clients'), {
      body: {
        client_id: 'info-app',
        name: 'Info app',
        tenant_id: tenantId,
        client_type: 'public',
        redirect_uris: [REDIRECT],
        op_user_agreement_url: 'https://info.example.com/agreement',
        client_logout_uri: 'https://info.example.com/logout',
      },
    });
    expectStatus(c, 201);
    const base = `/${tenantId}/authn/clients/info-app`;
    const info = await t.http('GET', base, { key: null });
    expectStatus(info, 200);
    expect(info.body).toMatchObject({
      client_id: 'info-app',
      name: 'Info app',
      tenant_id: tenantId,
      op_user_agreement_url: 'https://info.example.com/agreement',
      client_logout_uri: 'https://info.example.com/logout',
      tenant_name: 'Seed tenant',
    });
    const both = await t.http('GET', `${base}/tenant`, { key: null });
    expectStatus(both, 200);
    expect(both.body).toMatchObject({
      client: { client_id: 'info-app' },
      tenant: { tenant_id: tenantId, login_order: ['PIN', 'PATTERN'] },
    });
    const signed = await t.http('GET', `${base}/tenant/signed`, { key: null });
    expectStatus(signed, 200);
    const { payload } = await jwtVerify(
      signed.body.data,
      createRemoteJWKSet(new URL(`${t.baseUrl}/${tenantId}/jwks`)),
      { issuer: `${t.baseUrl}/${tenantId}` },
    );
    expect(payload).toMatchObject({ client: both.body.client, tenant: both.body.tenant });
    expect((await t.http('GET', `/${tenantId}/authn/clients/nope`, { key: null })).status).toBe(
      404,
    );
  });

  it('lists page from 0 with page_size, keep limit/offset, and refuse bad paging', async () => {
    for (const name of ['p1', 'p2', 'p3']) {
      const r = await t.http('POST', api('/groups'), { body: { name } });
      expect(r.status).toBe(201);
    }
    const first = await t.http('GET', api('/groups?page=0&page_size=2'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ has_next: true, total_count: 3 });
    expect(first.body.data.map((g: { name: string }) => g.name)).toEqual(['p3', 'p2']);
    const second = await t.http('GET', api('/groups?page=1&page_size=2'));
    expect(second.body.data.map((g: { name: string }) => g.name)).toEqual(['p1']);
    expect(second.body.has_next).toBe(false);
    // page alone: the seed's page size of 100.
    expect((await t.http('GET', api('/groups?page=0'))).body.data).toHaveLength(3);
    expect((await t.http('GET', api('/groups?limit=1&offset=2'))).body.data[0].name).toBe('p1');
    expect((await t.http('GET', api('/clients?skip=0&limit=100'))).status).toBe(200);
    for (const q of ['page=-1', 'page_size=0', 'page_size=501', 'page=x', 'sort_direction=0']) {
      const r = await t.http('GET', api(`/groups?${q}`));
      expect([q, r.status]).toEqual([q, 400]);
    }
    for (const path of ['/blocked-ips', '/blocked-users']) {
      const r = await t.http('GET', api(`${path}?page=0&page_size=100&sort_direction=-1`));
      expect([path, r.status, r.body]).toEqual([
        path,
        200,
        { data: [], has_next: false, total_count: 0 },
      ]);
    }
  });

  it('Authorize and Token at the root with tenant_id, email_hint pre-fills, Userinfo carries the seed claims', async () => {
    const secret = 'Qm4-Zr8t_Lw2Yx6Pc9Vb1Nd5Hk3Jf7Gs0Ea';
    const c = await t.http('POST', api('/clients'), {
      body: {
        client_id: 'root-app',
        name: 'Root app',
        tenant_id: tenantId,
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        allowed_scopes: ['openid', 'profile', 'email'],
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: secret,
        sing_alg: 'EdDSA',
      },
    });
    expect(c.status).toBe(201);
    await t.http('POST', api('/users'), {
      body: {
        username: 'carol',
        email: 'carol@example.com',
        password: PASSWORD,
        locale: 'fr',
        is_verified: true,
      },
    });

    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const browser = new Browser();
    const authorize = new URL('/authorize', t.baseUrl);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: 'root-app',
      redirect_uri: REDIRECT,
      tenant_id: tenantId,
      scope: 'openid profile email',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      email_hint: 'carol@example.com',
    })) {
      authorize.searchParams.set(k, v);
    }
    let res = await browser.get(authorize);
    expect(res.status).toBe(303);
    expect(new URL(res.location!).pathname).toMatch(new RegExp(`^/${tenantId}/interaction/`));
    res = await browser.get(new URL(res.location!, t.baseUrl));
    expect(res.status).toBe(200);
    expect(res.html).toContain('value="carol@example.com"');
    const form = findForm(res.html, '/login');
    res = await browser.post(new URL(form.action, t.baseUrl), {
      ...form.fields,
      login: 'carol',
      password: PASSWORD,
    });
    let callback: URL | undefined;
    for (let hop = 0; hop < 10 && !callback; hop++) {
      const next = new URL(res.location!, t.baseUrl);
      if (next.href.startsWith(REDIRECT)) callback = next;
      else {
        res = await browser.get(next);
        if (res.status === 200 && res.html.includes('/consent')) {
          const consent = findForm(res.html, '/consent');
          res = await browser.post(new URL(consent.action, t.baseUrl), consent.fields);
        }
      }
    }
    const code = callback!.searchParams.get('code');
    expect(code).toBeTruthy();

    // Token Exchange: form body at the root, tenant_id and client_secret in it.
    const token = await fetch(new URL('/token', t.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'root-app',
        grant_type: 'authorization_code',
        tenant_id: tenantId,
        client_secret: secret,
        redirect_uri: REDIRECT,
        code: code!,
        code_verifier: verifier,
      }),
    });
    const tokens = (await token.json()) as Record<string, string>;
    expect([token.status, tokens.error_description]).toEqual([200, undefined]);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString());
    expect(header.alg).toBe('EdDSA');

    const info = await fetch(new URL(`/${tenantId}/userinfo`, t.baseUrl), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const claims = (await info.json()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: expect.any(String),
      name: 'carol',
      email: 'carol@example.com',
      email_verified: true,
      locale: 'fr',
      tenant_id: tenantId,
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
    });
    expect(Math.abs((claims.created_at as number) - Date.now() / 1000)).toBeLessThan(600);

    // A root token request that names no tenant, or an unknown one, is an OAuth error.
    const missing = await fetch(new URL('/token', t.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'root-app' }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_request' });
    const unknown = await fetch(new URL(`/authorize?tenant_id=nope-${tenantId}`, t.baseUrl));
    expect(unknown.status).toBe(404);
  });
});
