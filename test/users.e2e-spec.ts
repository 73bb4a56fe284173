import { newTenant, startTestApp, type TestApp } from './harness.js';

const W = ['users:write', 'groups:write', 'api-keys:write', 'tenants:write', 'me:read'];

const users = (tenantId: string) => `/api/v1/tenants/${tenantId}/users`;

describe('users', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates a user with every field, never returns the password, reads it by id and by username', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const body = {
      username: 'Alice.Smith',
      email: 'Alice@Example.com',
      password: 'correct horse battery',
      is_verified: true,
      locale: 'pt-BR',
      roles: ['admin', 'auditor'],
      external_id: 'HR-001',
      display_name: 'Alice Smith',
      given_name: 'Alice',
      family_name: 'Smith',
      picture: 'https://img.example.com/alice.png',
    };
    const created = await t.http('POST', users(tenantId), { key, body });
    expect(created.status).toBe(201);
    const { password: _p, ...visible } = body;
    expect(created.body).toEqual({
      ...visible,
      user_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenant_id: tenantId,
      is_disabled: false,
      has_password: true,
      password_change_required: false,
      terms_accepted_version: null,
      terms_accepted_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(created.text).not.toContain('correct horse');
    expect(created.text).not.toContain('$2b$');
    const byId = await t.http('GET', `${users(tenantId)}/${created.body.user_id}`, { key });
    expect(byId.body).toEqual(created.body);
    const byName = await t.http('GET', `${users(tenantId)}/by-username/alice.smith`, { key });
    expect(byName.status).toBe(200);
    expect(byName.body.user_id).toBe(created.body.user_id);
    const db = t.app.get((await import('typeorm')).DataSource);
    const [row] = await db.query('SELECT password_hash FROM users WHERE user_id = $1', [
      created.body.user_id,
    ]);
    expect(row.password_hash).toMatch(/^\$2[aby]\$04\$/);
  });

  it('refuses duplicates in any case with 409 naming the field', async () => {
    const { tenantId, key } = await newTenant(t, W);
    await t.http('POST', users(tenantId), {
      key,
      body: { username: 'bob', email: 'bob@x.io', external_id: 'E1' },
    });
    for (const [body, field] of [
      [{ username: 'BOB' }, 'username'],
      [{ username: 'bob2', email: 'BOB@X.IO' }, 'email'],
      [{ username: 'bob3', external_id: 'E1' }, 'external_id'],
    ] as const) {
      const r = await t.http('POST', users(tenantId), { key, body });
      expect([field, r.status]).toEqual([field, 409]);
      expect(r.body.errors[0].field).toBe(field);
    }
    // another tenant may reuse the same names
    const other = await newTenant(t, W);
    expect(
      (
        await t.http('POST', users(other.tenantId), {
          key: other.key,
          body: { username: 'bob', email: 'bob@x.io', external_id: 'E1' },
        })
      ).status,
    ).toBe(201);
  });

  it('validates every field with field errors', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const r = await t.http('POST', users(tenantId), {
      key,
      body: {
        username: 'bad name!',
        email: 'nope',
        locale: 'english please',
        roles: 'admin',
        is_verified: 'yes',
        password: 'short',
        extra: 1,
      },
    });
    expect(r.status).toBe(400);
    const fields = new Set(r.body.errors.map((e: { field: string }) => e.field));
    for (const f of ['username', 'email', 'locale', 'roles', 'is_verified', 'extra'])
      expect([f, fields.has(f)]).toEqual([f, true]);
    expect(
      (await t.http('POST', users(tenantId), { key, body: { username: 'x'.repeat(129) } })).status,
    ).toBe(400);
    expect((await t.http('POST', users(tenantId), { key, body: {} })).body.errors[0].field).toBe(
      'username',
    );
    // password policy: tenant minimum length and bcrypt's 72 bytes
    const short = await t.http('POST', users(tenantId), {
      key,
      body: { username: 'p1', password: 'short' },
    });
    expect(short.status).toBe(400);
    expect(short.body.errors[0]).toEqual({
      field: 'password',
      message: expect.stringContaining('at least 8'),
    });
    const long = await t.http('POST', users(tenantId), {
      key,
      body: { username: 'p2', password: 'a'.repeat(73) },
    });
    expect(long.body.errors[0].message).toContain('72 bytes');
    await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      key,
      body: { password_min_length: 12 },
    });
    const policy = await t.http('POST', users(tenantId), {
      key,
      body: { username: 'p3', password: 'elevenchars' },
    });
    expect(policy.body.errors[0].message).toContain('at least 12');
  });

  it("answers 404 for unknown ids, malformed ids and another tenant's user", async () => {
    const a = await newTenant(t, W);
    const b = await newTenant(t, W);
    const bUser = (
      await t.http('POST', users(b.tenantId), { key: b.key, body: { username: 'victim' } })
    ).body;
    for (const path of [
      `${users(a.tenantId)}/00000000-0000-4000-8000-000000000000`,
      `${users(a.tenantId)}/not-a-uuid`,
      `${users(a.tenantId)}/${bUser.user_id}`,
      `${users(a.tenantId)}/by-username/victim`,
    ]) {
      expect([path, (await t.http('GET', path, { key: a.key })).status]).toEqual([path, 404]);
    }
    // tenant A's key on tenant B's paths
    for (const [method, path, body] of [
      ['GET', `${users(b.tenantId)}/${bUser.user_id}`],
      ['PATCH', `${users(b.tenantId)}/${bUser.user_id}`, { display_name: 'x' }],
      ['DELETE', `${users(b.tenantId)}/${bUser.user_id}`],
      ['GET', users(b.tenantId)],
      ['POST', `${users(b.tenantId)}/batch-delete`, { users_ids: [bUser.user_id] }],
      ['PUT', `${users(b.tenantId)}/${bUser.user_id}/password`, { password: 'new password 1' }],
    ] as Array<[string, string, unknown?]>) {
      expect([method, path, (await t.http(method, path, { key: a.key, body })).status]).toEqual([
        method,
        path,
        404,
      ]);
    }
    // tenant A cannot act on B's user through its own path either
    expect(
      (await t.http('DELETE', `${users(a.tenantId)}/${bUser.user_id}`, { key: a.key })).status,
    ).toBe(404);
    expect(
      (await t.http('GET', `${users(b.tenantId)}/${bUser.user_id}`, { key: b.key })).status,
    ).toBe(200);
  });

  it('PATCH touches only the given fields; PUT replaces all but the password', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const u = (
      await t.http('POST', users(tenantId), {
        key,
        body: {
          username: 'carol',
          email: 'c@x.io',
          roles: ['a'],
          locale: 'en',
          display_name: 'Carol',
          password: 'password-123',
        },
      })
    ).body;
    const patched = await t.http('PATCH', `${users(tenantId)}/${u.user_id}`, {
      key,
      body: { display_name: 'Carol C.' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      ...u,
      display_name: 'Carol C.',
      updated_at: expect.any(String),
    });
    const cleared = await t.http('PATCH', `${users(tenantId)}/${u.user_id}`, {
      key,
      body: { email: null },
    });
    expect(cleared.body.email).toBeNull();
    const replaced = await t.http('PUT', `${users(tenantId)}/${u.user_id}`, {
      key,
      body: { ...patched.body, username: 'carol2', roles: undefined },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      username: 'carol2',
      roles: [],
      display_name: 'Carol C.',
      has_password: true,
    });
    const only = await t.http('PUT', `${users(tenantId)}/${u.user_id}`, {
      key,
      body: { username: 'carol3' },
    });
    expect(only.body).toMatchObject({
      username: 'carol3',
      email: null,
      locale: null,
      display_name: null,
      has_password: true,
    });
    expect(
      (await t.http('PUT', `${users(tenantId)}/${u.user_id}`, { key, body: { email: 'x@y.z' } }))
        .status,
    ).toBe(400);
    // rename into a taken username is a 409
    await t.http('POST', users(tenantId), { key, body: { username: 'dave' } });
    const clash = await t.http('PATCH', `${users(tenantId)}/${u.user_id}`, {
      key,
      body: { username: 'DAVE' },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.errors[0].field).toBe('username');
  });

  it('lists with prefix filters, sorting and pagination', async () => {
    const { tenantId, key } = await newTenant(t, W);
    for (const name of ['zed', 'amy', 'Abe', 'bob', 'a_b', 'axe']) {
      await t.http('POST', users(tenantId), {
        key,
        body: { username: name, email: `${name.toLowerCase()}@mail.test` },
      });
    }
    const all = await t.http('GET', `${users(tenantId)}?limit=500`, { key });
    expect(all.body.total_count).toBe(6);
    expect(all.body.has_next).toBe(false);
    const sorted = await t.http(
      'GET',
      `${users(tenantId)}?sort_by=username&sort_direction=1&limit=3`,
      { key },
    );
    expect(sorted.body.data.map((u: { username: string }) => u.username)).toEqual([
      'a_b',
      'Abe',
      'amy',
    ]);
    expect(sorted.body).toMatchObject({ has_next: true, total_count: 6 });
    const next = await t.http(
      'GET',
      `${users(tenantId)}?sort_by=username&sort_direction=1&limit=3&offset=3`,
      { key },
    );
    expect(next.body.data.map((u: { username: string }) => u.username)).toEqual([
      'axe',
      'bob',
      'zed',
    ]);
    expect(next.body.has_next).toBe(false);
    const prefix = await t.http(
      'GET',
      `${users(tenantId)}?username=A&sort_by=username&sort_direction=1`,
      { key },
    );
    expect(prefix.body.data.map((u: { username: string }) => u.username)).toEqual([
      'a_b',
      'Abe',
      'amy',
      'axe',
    ]);
    expect(prefix.body.total_count).toBe(4);
    // LIKE metacharacters match literally
    const literal = await t.http('GET', `${users(tenantId)}?username=a_`, { key });
    expect(literal.body.data.map((u: { username: string }) => u.username)).toEqual(['a_b']);
    const email = await t.http('GET', `${users(tenantId)}?email=BO`, { key });
    expect(email.body.data.map((u: { username: string }) => u.username)).toEqual(['bob']);
    const desc = await t.http(
      'GET',
      `${users(tenantId)}?sort_by=created_at&sort_direction=-1&limit=1`,
      { key },
    );
    expect(desc.body.data[0].username).toBe('axe');
    for (const q of [
      'limit=0',
      'limit=501',
      'sort_by=password_hash',
      'sort_direction=0',
      'offset=x',
    ]) {
      expect([q, (await t.http('GET', `${users(tenantId)}?${q}`, { key })).status]).toEqual([
        q,
        400,
      ]);
    }
  });

  it('batch create: valid users land, invalid and duplicate ones are reported with reasons', async () => {
    const { tenantId, key } = await newTenant(t, W);
    await t.http('POST', users(tenantId), {
      key,
      body: { username: 'existing', email: 'taken@x.io' },
    });
    const r = await t.http('POST', `${users(tenantId)}/batch`, {
      key,
      body: {
        users: [
          { username: 'ok1', password: 'long enough pw' },
          { username: 'bad name' },
          { username: 'EXISTING' },
          { username: 'ok2', email: 'ok2@x.io' },
          { username: 'ok1' },
          { username: 'mailclash', email: 'TAKEN@x.io' },
          'not an object',
          { username: 'weak', password: 'x' },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.success_created_count).toBe(2);
    expect(r.body.fail_create_usernames).toEqual(['bad name', '#6', 'weak']);
    expect(r.body.duplicate_usernames.toSorted()).toEqual(
      ['EXISTING', 'mailclash', 'ok1'].toSorted(),
    );
    expect(r.body.failures).toEqual([
      { index: 1, username: 'bad name', field: 'username', reason: expect.any(String) },
      { index: 2, username: 'EXISTING', field: 'username', reason: 'username is already in use' },
      {
        index: 4,
        username: 'ok1',
        field: 'username',
        reason: 'username appears twice in this batch',
      },
      { index: 5, username: 'mailclash', field: 'email', reason: 'email is already in use' },
      { index: 6, username: null, field: null, reason: 'must be an object' },
      {
        index: 7,
        username: 'weak',
        field: 'password',
        reason: expect.stringContaining('at least'),
      },
    ]);
    const list = await t.http(
      'GET',
      `${users(tenantId)}?limit=500&sort_by=username&sort_direction=1`,
      { key },
    );
    expect(list.body.data.map((u: { username: string }) => u.username)).toEqual([
      'existing',
      'ok1',
      'ok2',
    ]);
    expect(list.body.total_count).toBe(3);
    expect(
      (await t.http('POST', `${users(tenantId)}/batch`, { key, body: { users: [] } })).status,
    ).toBe(400);
    const tooMany = Array.from({ length: 1001 }, (_v, i) => ({ username: `u${i}` }));
    expect(
      (await t.http('POST', `${users(tenantId)}/batch`, { key, body: { users: tooMany } })).status,
    ).toBe(400);
  });

  it('batch create of 1,000 users in one call', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const many = Array.from({ length: 1000 }, (_v, i) => ({
      username: `bulk${i}`,
      email: `bulk${i}@x.io`,
    }));
    const r = await t.http('POST', `${users(tenantId)}/batch`, { key, body: { users: many } });
    expect(r.body.success_created_count).toBe(1000);
    expect((await t.http('GET', `${users(tenantId)}?limit=1`, { key })).body.total_count).toBe(
      1000,
    );
  });

  it('counts users created concurrently (spread over count shards) exactly, in the API and SCIM', async () => {
    const { tenantId, key } = await newTenant(t, [...W, 'scim']);
    await Promise.all(
      Array.from({ length: 30 }, (_v, i) =>
        t.http('POST', users(tenantId), { key, body: { username: `c${i}` } }),
      ),
    );
    const list = await t.http('GET', `${users(tenantId)}?limit=1`, { key });
    expect(list.body.total_count).toBe(30);
    const scim = await t.http('GET', `/${tenantId}/scim/v2/Users?count=1`, {
      key: null,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(scim.body.totalResults).toBe(30);
    const db = t.app.get((await import('typeorm')).DataSource);
    const [shards] = await db.query(
      'SELECT count(*)::int AS n FROM tenant_user_counts WHERE tenant_id = $1',
      [tenantId],
    );
    expect(shards.n).toBeGreaterThan(1);
  });

  it("batch delete removes the tenant's users and reports the rest", async () => {
    const { tenantId, key } = await newTenant(t, W);
    const ids = [];
    for (const name of ['d1', 'd2', 'd3'])
      ids.push(
        (await t.http('POST', users(tenantId), { key, body: { username: name } })).body.user_id,
      );
    const missing = '00000000-0000-4000-8000-000000000000';
    const r = await t.http('POST', `${users(tenantId)}/batch-delete`, {
      key,
      body: { users_ids: [ids[0], ids[1], missing] },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ deleted_count: 2, not_found_ids: [missing] });
    const left = await t.http('GET', users(tenantId), { key });
    expect(left.body.data.map((u: { username: string }) => u.username)).toEqual(['d3']);
    expect(left.body.total_count).toBe(1);
    expect(
      (
        await t.http('POST', `${users(tenantId)}/batch-delete`, {
          key,
          body: { users_ids: ['nope'] },
        })
      ).status,
    ).toBe(400);
  });

  it('admin actions: set password, disable/enable, verify email, delete', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const u = (
      await t.http('POST', users(tenantId), { key, body: { username: 'erin', email: 'erin@x.io' } })
    ).body;
    expect(u.has_password).toBe(false);
    const base = `${users(tenantId)}/${u.user_id}`;
    expect(
      (await t.http('PUT', `${base}/password`, { key, body: { password: 'brand new password' } }))
        .status,
    ).toBe(204);
    expect((await t.http('GET', base, { key })).body.has_password).toBe(true);
    expect(
      (await t.http('PUT', `${base}/password`, { key, body: { password: 'tiny' } })).status,
    ).toBe(400);
    expect((await t.http('PUT', `${base}/password`, { key, body: {} })).status).toBe(400);
    expect((await t.http('POST', `${base}/disable`, { key })).body.is_disabled).toBe(true);
    expect((await t.http('POST', `${base}/enable`, { key })).body.is_disabled).toBe(false);
    expect((await t.http('POST', `${base}/verify-email`, { key })).body.is_verified).toBe(true);
    expect((await t.http('DELETE', base, { key })).status).toBe(204);
    expect((await t.http('GET', base, { key })).status).toBe(404);
    expect((await t.http('DELETE', base, { key })).status).toBe(404);
    expect((await t.http('POST', `${base}/disable`, { key })).status).toBe(404);
  });

  it('scopes: users:read cannot write', async () => {
    const { tenantId, key } = await newTenant(t, ['users:read']);
    expect((await t.http('GET', users(tenantId), { key })).status).toBe(200);
    expect((await t.http('POST', users(tenantId), { key, body: { username: 'x' } })).status).toBe(
      403,
    );
  });

  it('a user key reads /me, and stops working when its user is disabled', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const u = (
      await t.http('POST', users(tenantId), { key, body: { username: 'frank', email: 'f@x.io' } })
    ).body;
    const uk = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      key,
      body: { name: 'frank cli', scopes: ['me:read'], user_id: u.user_id },
    });
    expect(uk.status).toBe(201);
    expect(uk.body).toMatchObject({
      user_id: u.user_id,
      kind: 'user',
      api_key: expect.stringMatching(/^idp_us_/),
    });
    const me = await t.http('GET', `/api/v1/tenants/${tenantId}/me`, { key: uk.body.api_key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: u.user_id, username: 'frank' });
    // a tenant key is not a user
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/me`, { key })).status).toBe(403);
    // a user key cannot use the admin API without scopes
    expect((await t.http('GET', users(tenantId), { key: uk.body.api_key })).status).toBe(403);
    await t.http('POST', `${users(tenantId)}/${u.user_id}/disable`, { key });
    expect(
      (await t.http('GET', `/api/v1/tenants/${tenantId}/me`, { key: uk.body.api_key })).status,
    ).toBe(401);
  });
});
