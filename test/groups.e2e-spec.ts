import { newTenant, startTestApp, type TestApp } from './harness.js';

const W = ['users:write', 'groups:write'];

const groups = (tenantId: string) => `/api/v1/tenants/${tenantId}/groups`;

describe('groups', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const mkUser = async (tenantId: string, key: string, username: string) =>
    (await t.http('POST', `/api/v1/tenants/${tenantId}/users`, { key, body: { username } })).body
      .user_id as string;

  it('CRUD with name unique per tenant case-insensitively', async () => {
    const { tenantId, key } = await newTenant(t, W);
    const g = await t.http('POST', groups(tenantId), {
      key,
      body: { name: 'Engineering', display_name: 'Eng', external_id: 'G-1' },
    });
    expect(g.status).toBe(201);
    expect(g.body).toMatchObject({
      name: 'Engineering',
      display_name: 'Eng',
      external_id: 'G-1',
      tenant_id: tenantId,
    });
    const dup = await t.http('POST', groups(tenantId), { key, body: { name: 'ENGINEERING' } });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0].field).toBe('name');
    const dupExt = await t.http('POST', groups(tenantId), {
      key,
      body: { name: 'Other', external_id: 'G-1' },
    });
    expect(dupExt.body.errors[0].field).toBe('external_id');
    const id = g.body.group_id;
    expect((await t.http('GET', `${groups(tenantId)}/${id}`, { key })).body.name).toBe(
      'Engineering',
    );
    const patched = await t.http('PATCH', `${groups(tenantId)}/${id}`, {
      key,
      body: { display_name: 'Engineers' },
    });
    expect(patched.body).toMatchObject({
      name: 'Engineering',
      display_name: 'Engineers',
      external_id: 'G-1',
    });
    const put = await t.http('PUT', `${groups(tenantId)}/${id}`, { key, body: { name: 'Eng' } });
    expect(put.body).toMatchObject({ name: 'Eng', display_name: null, external_id: null });
    const bad = await t.http('POST', groups(tenantId), {
      key,
      body: { name: '', display_name: 5 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['name', 'display_name']),
    );
    await t.http('POST', groups(tenantId), { key, body: { name: 'Sales' } });
    const list = await t.http('GET', `${groups(tenantId)}?sort_by=name&limit=1&sort_direction=1`, {
      key,
    });
    expect(list.body).toMatchObject({ total_count: 2, has_next: true });
    expect(list.body.data[0].name).toBe('Eng');
    expect(
      (await t.http('GET', `${groups(tenantId)}?name=sa`, { key })).body.data.map(
        (x: { name: string }) => x.name,
      ),
    ).toEqual(['Sales']);
    expect((await t.http('DELETE', `${groups(tenantId)}/${id}`, { key })).status).toBe(204);
    expect((await t.http('GET', `${groups(tenantId)}/${id}`, { key })).status).toBe(404);
    expect((await t.http('GET', `${groups(tenantId)}/nope`, { key })).status).toBe(404);
  });

  it("sets members, adds and removes one, lists them and a user's groups", async () => {
    const { tenantId, key } = await newTenant(t, W);
    const [u1, u2, u3] = [
      await mkUser(tenantId, key, 'm1'),
      await mkUser(tenantId, key, 'm2'),
      await mkUser(tenantId, key, 'm3'),
    ];
    const g = (await t.http('POST', groups(tenantId), { key, body: { name: 'team' } })).body
      .group_id;
    const g2 = (await t.http('POST', groups(tenantId), { key, body: { name: 'admins' } })).body
      .group_id;
    const base = `${groups(tenantId)}/${g}/members`;
    expect((await t.http('PUT', base, { key, body: { user_ids: [u1, u2] } })).status).toBe(200);
    const names = async () =>
      (await t.http('GET', `${base}?sort_direction=1`, { key })).body.data.map(
        (u: { username: string }) => u.username,
      );
    expect(await names()).toEqual(['m1', 'm2']);
    expect((await t.http('PUT', base, { key, body: { user_ids: [u2, u3] } })).status).toBe(200);
    expect(await names()).toEqual(['m2', 'm3']);
    expect((await t.http('PUT', `${base}/${u1}`, { key })).status).toBe(204);
    expect((await t.http('PUT', `${base}/${u1}`, { key })).status).toBe(204); // idempotent
    expect(await names()).toEqual(['m1', 'm2', 'm3']);
    expect((await t.http('DELETE', `${base}/${u2}`, { key })).status).toBe(204);
    expect((await t.http('DELETE', `${base}/${u2}`, { key })).status).toBe(404);
    expect(await names()).toEqual(['m1', 'm3']);
    await t.http('PUT', `${groups(tenantId)}/${g2}/members/${u1}`, { key });
    const ofUser = await t.http('GET', `/api/v1/tenants/${tenantId}/users/${u1}/groups`, { key });
    expect(ofUser.body.map((x: { name: string }) => x.name)).toEqual(['admins', 'team']);
    // unknown users are refused, the list unchanged
    const unknown = await t.http('PUT', base, {
      key,
      body: { user_ids: [u1, '00000000-0000-4000-8000-000000000000'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('user_ids');
    expect(await names()).toEqual(['m1', 'm3']);
    expect((await t.http('PUT', base, { key, body: { user_ids: ['x'] } })).status).toBe(400);
    expect(
      (await t.http('PUT', `${base}/00000000-0000-4000-8000-000000000000`, { key })).status,
    ).toBe(404);
    // deleting a user removes the membership
    await t.http('DELETE', `/api/v1/tenants/${tenantId}/users/${u3}`, { key });
    expect(await names()).toEqual(['m1']);
    expect((await t.http('PUT', base, { key, body: { user_ids: [] } })).status).toBe(200);
    expect(await names()).toEqual([]);
  });

  it('keeps groups and members inside their tenant', async () => {
    const a = await newTenant(t, W);
    const b = await newTenant(t, W);
    const bUser = await mkUser(b.tenantId, b.key, 'bu');
    const bGroup = (await t.http('POST', groups(b.tenantId), { key: b.key, body: { name: 'bg' } }))
      .body.group_id;
    const aGroup = (await t.http('POST', groups(a.tenantId), { key: a.key, body: { name: 'ag' } }))
      .body.group_id;
    expect((await t.http('GET', `${groups(b.tenantId)}/${bGroup}`, { key: a.key })).status).toBe(
      404,
    );
    expect((await t.http('GET', `${groups(a.tenantId)}/${bGroup}`, { key: a.key })).status).toBe(
      404,
    );
    // B's user cannot be put into A's group
    const r = await t.http('PUT', `${groups(a.tenantId)}/${aGroup}/members`, {
      key: a.key,
      body: { user_ids: [bUser] },
    });
    expect(r.status).toBe(400);
    expect(
      (await t.http('PUT', `${groups(a.tenantId)}/${aGroup}/members/${bUser}`, { key: a.key }))
        .status,
    ).toBe(404);
  });

  it('sets and reads allowed clients', async () => {
    const { tenantId, key } = await newTenant(t, [...W, 'clients:write']);
    const g = (await t.http('POST', groups(tenantId), { key, body: { name: 'app-users' } })).body
      .group_id;
    const res = await t.http('GET', `${groups(tenantId)}/${g}/allowed-clients`, { key });
    expect(res.body).toEqual({ client_ids: [] });
    const bad = await t.http('PUT', `${groups(tenantId)}/${g}/allowed-clients`, {
      key,
      body: { client_ids: 'x' },
    });
    expect(bad.status).toBe(400);
    const unknown = await t.http('PUT', `${groups(tenantId)}/${g}/allowed-clients`, {
      key,
      body: { client_ids: ['no-such-client'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('client_ids');
    const client = await t.http('POST', `/api/v1/tenants/${tenantId}/clients`, {
      key,
      body: {
        name: 'Restricted app',
        client_type: 'confidential',
        redirect_uris: ['https://app.example.com/cb'],
        grant_types: ['authorization_code'],
        is_group_restricted: true,
      },
    });
    expect(client.status).toBe(201);
    const cid = client.body.client_id;
    const set = await t.http('PUT', `${groups(tenantId)}/${g}/allowed-clients`, {
      key,
      body: { client_ids: [cid] },
    });
    expect(set.body).toEqual({ client_ids: [cid] });
    expect((await t.http('GET', `${groups(tenantId)}/${g}/allowed-clients`, { key })).body).toEqual(
      { client_ids: [cid] },
    );
    // another tenant's client id is unknown here
    const other = await newTenant(t, ['clients:write']);
    const foreign = (
      await t.http('POST', `/api/v1/tenants/${other.tenantId}/clients`, {
        key: other.key,
        body: {
          name: 'Other',
          client_type: 'confidential',
          redirect_uris: ['https://o.example.com/cb'],
          grant_types: ['authorization_code'],
        },
      })
    ).body.client_id;
    expect(
      (
        await t.http('PUT', `${groups(tenantId)}/${g}/allowed-clients`, {
          key,
          body: { client_ids: [foreign] },
        })
      ).status,
    ).toBe(400);
    // deleting the client removes it from the group
    expect(
      (await t.http('DELETE', `/api/v1/tenants/${tenantId}/clients/${cid}`, { key })).status,
    ).toBe(204);
    expect((await t.http('GET', `${groups(tenantId)}/${g}/allowed-clients`, { key })).body).toEqual(
      { client_ids: [] },
    );
  });
});
