import { DataSource } from 'typeorm';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { GroupEntity } from '../src/groups/group.entity.js';
import { UserEntity } from '../src/users/user.entity.js';
import { parseFilter } from '../src/scim/scim.filter.js';
import { GROUP_RESOURCE, USER_RESOURCE } from '../src/scim/scim.schemas.js';
import { compileFilter } from '../src/scim/scim.sql.js';

/** RFC 7643/7644 behaviour: discovery, the RFC's own examples, filters, ETags, Bulk, errors, auth. */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

const q = (filter: string) => encodeURIComponent(filter);

function scimClient(t: TestApp, tenantId: string, key: string) {
  const base = `/${tenantId}/scim/v2`;
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.http(method, base + path, {
      key: null,
      body,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
    });
}
const ids = (body: { Resources: Array<{ id: string }> }) => body.Resources.map((r) => r.id);

describe('SCIM 2.0 service provider (RFC 7643/7644)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function tenant() {
    const { tenantId, key } = await newTenant(t, ['scim']);
    return { tenantId, key, scim: scimClient(t, tenantId, key) };
  }

  it('discovery documents are readable with a plain GET and advertise the limits', async () => {
    const { scim } = await tenant();
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 1000 },
      sort: { supported: true },
      etag: { supported: true },
    });
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect(types.body.Resources[0].schemaExtensions).toEqual([
      { schema: ENTERPRISE, required: false },
    ]);
    expect((await scim('GET', '/ResourceTypes/User')).body.endpoint).toBe('/Users');
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.Resources.map((s: { id: string }) => s.id)).toEqual([
      USER,
      ENTERPRISE,
      GROUP,
    ]);
    const user = (await scim('GET', `/Schemas/${USER}`)).body;
    const userName = user.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userName).toMatchObject({
      type: 'string',
      required: true,
      uniqueness: 'server',
      mutability: 'readWrite',
    });
    expect((await scim('GET', '/Schemas/urn:nope')).status).toBe(404);
    // Discovery also answers with a body-less request that still names a content type.
    const odd = await scim('GET', '/ServiceProviderConfig', undefined, {
      'content-type': 'application/scim+json',
    });
    expect(odd.status).toBe(200);
  });

  it('RFC 7644 §3.3 create, §3.4.1 read, attributes and excludedAttributes', async () => {
    const { scim, tenantId } = await tenant();
    const r = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'bjensen',
      externalId: 'bjensen',
      name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      schemas: [USER],
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      externalId: 'bjensen',
      userName: 'bjensen',
      active: true,
      meta: {
        resourceType: 'User',
        created: expect.any(String),
        lastModified: expect.any(String),
        location: `${t.baseUrl}/${tenantId}/scim/v2/Users/${r.body.id}`,
        version: 'W/"1"',
      },
    });
    const only = await scim('GET', `/Users/${r.body.id}?attributes=userName,name.familyName`);
    expect(only.body).toEqual({
      schemas: [USER],
      id: r.body.id,
      userName: 'bjensen',
      name: { familyName: 'Jensen' },
    });
    const without = await scim('GET', `/Users/${r.body.id}?excludedAttributes=name,meta`);
    expect(without.body.name).toBeUndefined();
    expect(without.body.meta).toBeUndefined();
    expect(without.body.userName).toBe('bjensen');
    // JSON bodies are accepted as well as application/scim+json.
    const json = await t.http('POST', `/${tenantId}/scim/v2/Users`, {
      key: null,
      headers: {
        authorization: `Bearer ${await scimKey(tenantId)}`,
        'content-type': 'application/json',
      },
      body: { schemas: [USER], userName: 'json.body' },
    });
    expect(json.status).toBe(201);
  });

  async function scimKey(tenantId: string) {
    const k = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'k', scopes: ['scim'] },
    });
    return k.body.api_key as string;
  }

  it('RFC 7644 §3.4.2.2 filters translate to SQL with the expected results', async () => {
    const { scim } = await tenant();
    const mk = async (body: Record<string, unknown>) =>
      (await scim('POST', '/Users', { schemas: [USER, ENTERPRISE], ...body })).body.id as string;
    const bjensen = await mk({
      userName: 'bjensen',
      title: 'Tour Guide',
      userType: 'Employee',
      name: { familyName: "O'Malley", givenName: 'Barbara' },
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      ims: [{ value: 'babs@foo.com', type: 'xmpp' }],
      [ENTERPRISE]: { department: 'Tours' },
    });
    const jsmith = await mk({
      userName: 'Jsmith',
      userType: 'Intern',
      emails: [{ value: 'js@example.org', type: 'work' }],
    });
    const jdoe = await mk({
      userName: 'jdoe',
      title: 'Boss',
      userType: 'Contractor',
      active: false,
    });
    const cases: Array<[string, string[]]> = [
      ['userName eq "BJENSEN"', [bjensen]],
      ['USERNAME Eq "bjensen"', [bjensen]],
      [`name.familyName co "O'Malley"`, [bjensen]],
      ['userName sw "J"', [jsmith, jdoe]],
      ['userName ew "SMITH"', [jsmith]],
      ['title pr', [bjensen, jdoe]],
      ['not (title pr)', [jsmith]],
      ['title pr and userType eq "Employee"', [bjensen]],
      ['title pr or userType eq "Intern"', [bjensen, jsmith, jdoe]],
      [
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        [bjensen],
      ],
      [
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        [jdoe],
      ],
      ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', [bjensen]],
      [
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
        [bjensen],
      ],
      ['emails[type eq "home"]', [bjensen]],
      // separate conditions may hold on different emails; a value filter binds them to one
      ['emails.type eq "work" and emails.value ew ".org"', [bjensen, jsmith]],
      ['emails[type eq "work" and value ew ".org"]', [jsmith]],
      ['active eq false', [jdoe]],
      ['active eq "True"', [bjensen, jsmith]],
      [`${ENTERPRISE}:department eq "tours"`, [bjensen]],
      ['meta.lastModified gt "2011-05-13T04:42:34Z"', [bjensen, jsmith, jdoe]],
      ['meta.lastModified lt "2011-05-13T04:42:34Z"', []],
      ['meta.resourceType eq "User" and userName gt "j"', [jsmith, jdoe]],
      ['id eq "not-a-uuid"', []],
      [`id eq "${jdoe}"`, [jdoe]],
      ['userName eq "caf\\u00e9"', []],
      ['title eq "it\'s 100% _real_"', []],
    ];
    for (const [filter, expected] of cases) {
      const r = await scim('GET', `/Users?filter=${q(filter)}`);
      expect([filter, r.status]).toEqual([filter, 200]);
      expect([filter, ids(r.body).toSorted()]).toEqual([filter, [...expected].toSorted()]);
      expect(r.body.totalResults).toBe(expected.length);
    }
  });

  it('the lookups clients repeat (userName, externalId, displayName) use the tenant-leading indexes', async () => {
    const { tenantId } = await tenant();
    const db = t.app.get(DataSource);
    // A tenant with users, as the clients see it: with an empty one every tenant-leading index
    // looks equally cheap (one row estimated) and the planner picks any of them.
    await db.query(
      `INSERT INTO users (user_id, tenant_id, username) SELECT gen_random_uuid(), $1, 'filler' || g FROM generate_series(1, 200) g`,
      [tenantId],
    );
    await db.query(
      `INSERT INTO groups (group_id, tenant_id, name, display_name) SELECT gen_random_uuid(), $1, 'filler' || g, 'Filler ' || g FROM generate_series(1, 200) g`,
      [tenantId],
    );
    const plan = async (entity: typeof UserEntity | typeof GroupEntity, filter: string) => {
      const kind = entity === UserEntity ? 'User' : 'Group';
      const alias = kind === 'User' ? 'u' : 'g';
      const p = { params: {}, next: 0 };
      const where = compileFilter(
        kind === 'User' ? USER_RESOURCE : GROUP_RESOURCE,
        kind,
        parseFilter(filter),
        p,
      );
      // The same construction as the services: tenant first, then the compiled filter.
      const [sql, params] = db
        .getRepository(entity)
        .createQueryBuilder(alias)
        .where(`${alias}.tenant_id = :__tenant`, { __tenant: tenantId })
        .andWhere(`(${where})`, p.params)
        .getQueryAndParameters();
      return db.transaction(async (m) => {
        // Fresh statistics: other suites in the run may have just bulk-loaded this table, and
        // with stale ones two equally cheap-looking indexes tie.
        await m.query(`ANALYZE ${kind === 'User' ? 'users' : 'groups'}`);
        await m.query('SET LOCAL enable_seqscan = off');
        const rows: Array<{ 'QUERY PLAN': string }> = await m.query(`EXPLAIN ${sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    };
    expect(await plan(UserEntity, 'userName eq "Some.One@Example.com"')).toContain(
      'users_tenant_username_key',
    );
    expect(await plan(UserEntity, 'externalId eq "abc"')).toContain('users_tenant_external_id_key');
    expect(await plan(GroupEntity, 'displayName eq "Sales"')).toContain(
      'groups_tenant_display_name_idx',
    );
  });

  it('pages with integer startIndex/count in a stable order, and sorts', async () => {
    const { scim } = await tenant();
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
    const created: string[] = [];
    for (const n of names)
      created.push((await scim('POST', '/Users', { schemas: [USER], userName: n })).body.id);
    const p1 = await scim('GET', '/Users?startIndex=1&count=2');
    const p2 = await scim('GET', '/Users?startIndex=3&count=2');
    const p3 = await scim('GET', '/Users?startIndex=5&count=2');
    expect([...ids(p1.body), ...ids(p2.body), ...ids(p3.body)]).toEqual(created);
    expect(p2.body).toMatchObject({ totalResults: 5, startIndex: 3, itemsPerPage: 2 });
    const sorted = await scim('GET', '/Users?sortBy=userName&sortOrder=descending&count=3');
    expect(sorted.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      'echo',
      'delta',
      'charlie',
    ]);
    const zero = await scim('GET', '/Users?count=0');
    expect(zero.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect((await scim('GET', '/Users?startIndex=0&count=1')).body.startIndex).toBe(1);
    const search = await scim('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName sw "c"',
      attributes: ['userName'],
    });
    expect(search.body.Resources).toEqual([
      { schemas: [USER], id: created[3], userName: 'charlie' },
    ]);
  });

  it('RFC 7644 §3.5.2 PATCH examples on users and groups, all or nothing', async () => {
    const { scim } = await tenant();
    const u = (
      await scim('POST', '/Users', {
        schemas: [USER],
        userName: 'patchme',
        emails: [
          { value: 'a@example.com', type: 'work', primary: true },
          { value: 'b@example.org', type: 'home' },
        ],
        addresses: [{ type: 'work', streetAddress: '100 Main St', locality: 'Springfield' }],
      })
    ).body;
    const patch = (ops: unknown[]) =>
      scim('PATCH', `/Users/${u.id}`, { schemas: [PATCH], Operations: ops });

    // add to a multi-valued attribute; a new primary takes primary from the others
    let r = await patch([
      {
        op: 'add',
        path: 'emails',
        value: [{ value: 'c@example.net', type: 'other', primary: true }],
      },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.emails).toEqual([
      { value: 'a@example.com', type: 'work' },
      { value: 'b@example.org', type: 'home' },
      { value: 'c@example.net', type: 'other', primary: true },
    ]);
    // replace a sub-attribute of filtered elements; remove filtered elements
    r = await patch([
      {
        op: 'replace',
        path: 'addresses[type eq "work"].streetAddress',
        value: '911 Universal City Plaza',
      },
      { op: 'remove', path: 'emails[type eq "home" and value ew "example.org"]' },
    ]);
    expect(r.body.addresses).toEqual([
      { type: 'work', streetAddress: '911 Universal City Plaza', locality: 'Springfield' },
    ]);
    expect(r.body.emails.map((e: { value: string }) => e.value)).toEqual([
      'a@example.com',
      'c@example.net',
    ]);
    // path-less add with nested objects, remove a single attribute
    r = await patch([
      { op: 'add', value: { nickName: 'Babs', name: { givenName: 'Barbara' } } },
      { op: 'remove', path: 'addresses' },
    ]);
    expect(r.body).toMatchObject({ nickName: 'Babs', name: { givenName: 'Barbara' } });
    expect(r.body.addresses).toBeUndefined();

    // atomic: the second operation fails, so the first is not applied either
    const before = (await scim('GET', `/Users/${u.id}`)).body;
    r = await patch([
      { op: 'replace', path: 'displayName', value: 'Changed' },
      { op: 'replace', path: 'userName', value: 'not valid!' },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    const after = (await scim('GET', `/Users/${u.id}`)).body;
    expect(after.displayName).toBeUndefined();
    expect(after.meta.version).toBe(before.meta.version);

    // attribute names and paths compare case-insensitively
    r = await patch([
      { op: 'replace', path: 'NAME.FAMILYNAME', value: 'Jensen' },
      { op: 'add', value: { DisplayName: 'Babs J' } },
    ]);
    expect(r.body).toMatchObject({
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      displayName: 'Babs J',
    });

    // read-only and unknown targets
    expect((await patch([{ op: 'replace', path: 'id', value: 'x' }])).body.scimType).toBe(
      'mutability',
    );
    expect((await patch([{ op: 'replace', path: 'groups', value: [] }])).body.scimType).toBe(
      'mutability',
    );
    expect((await patch([{ op: 'replace', path: 'nope', value: 'x' }])).body.scimType).toBe(
      'invalidPath',
    );
    expect((await patch([{ op: 'remove' }])).body.scimType).toBe('noTarget');
    expect(
      (
        await patch([
          {
            op: 'replace',
            path: 'emails[type eq "work" and primary eq true]',
            value: { display: 'x' },
          },
        ])
      ).body.scimType,
    ).toBe('noTarget');

    // groups: §3.5.2.1 add members, §3.5.2.2 remove one / all, §3.5.2.3 replace all
    const m1 = (await scim('POST', '/Users', { schemas: [USER], userName: 'm1' })).body.id;
    const m2 = (await scim('POST', '/Users', { schemas: [USER], userName: 'm2' })).body.id;
    const g = (
      await scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Tour Guides',
        members: [{ value: m1 }],
      })
    ).body;
    const gp = (ops: unknown[]) =>
      scim('PATCH', `/Groups/${g.id}`, { schemas: [PATCH], Operations: ops });
    const members = async () =>
      ((await scim('GET', `/Groups/${g.id}`)).body.members ?? [])
        .map((m: { value: string }) => m.value)
        .toSorted();
    expect(
      (
        await gp([
          {
            op: 'add',
            path: 'members',
            value: [{ display: 'm2', $ref: `x/Users/${m2}`, value: m2 }],
          },
        ])
      ).status,
    ).toBe(204);
    expect(await members()).toEqual([m1, m2].toSorted());
    await gp([{ op: 'remove', path: `members[value eq "${m2}"]` }]);
    expect(await members()).toEqual([m1]);
    await gp([{ op: 'remove', path: 'members' }]);
    expect(await members()).toEqual([]);
    await gp([{ op: 'replace', path: 'members', value: [{ value: m2 }] }]);
    expect(await members()).toEqual([m2]);
    await gp([{ op: 'remove', path: 'members[display eq "M2"]' }]);
    expect(await members()).toEqual([]);
    const withBody = await scim('PATCH', `/Groups/${g.id}?attributes=displayName`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Guides' }],
    });
    expect(withBody.status).toBe(200);
    expect(withBody.body).toEqual({ schemas: [GROUP], id: g.id, displayName: 'Guides' });
  });

  it('meta.version ETags: If-None-Match answers 304, a stale If-Match answers 412', async () => {
    const { scim } = await tenant();
    const u = await scim('POST', '/Users', { schemas: [USER], userName: 'etag' });
    const etag = u.headers.get('etag')!;
    expect(etag).toBe('W/"1"');
    expect(
      (await scim('GET', `/Users/${u.body.id}`, undefined, { 'if-none-match': etag })).status,
    ).toBe(304);
    const changed = await scim(
      'PUT',
      `/Users/${u.body.id}`,
      { schemas: [USER], userName: 'etag', displayName: 'E' },
      { 'if-match': etag },
    );
    expect(changed.status).toBe(200);
    const next = changed.headers.get('etag')!;
    expect(next).not.toBe(etag);
    expect(changed.body.meta.version).toBe(next);
    expect(
      (await scim('GET', `/Users/${u.body.id}`, undefined, { 'if-none-match': etag })).status,
    ).toBe(200);
    const stale = await scim(
      'PATCH',
      `/Users/${u.body.id}`,
      { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'F' }] },
      { 'if-match': etag },
    );
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ schemas: [ERROR], status: '412' });
    expect(
      (await scim('DELETE', `/Users/${u.body.id}`, undefined, { 'if-match': etag })).status,
    ).toBe(412);
    expect(
      (await scim('DELETE', `/Users/${u.body.id}`, undefined, { 'if-match': next })).status,
    ).toBe(204);
    // A change through the management API changes the version too.
    const g = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'V' });
    const v1 = g.headers.get('etag')!;
    const other = await scim('POST', '/Users', { schemas: [USER], userName: 'member' });
    await scim('PATCH', `/Groups/${g.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: other.body.id }] }],
    });
    expect(
      (await scim('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': v1 })).status,
    ).toBe(200);
  });

  it('Bulk: bulkId references (in any order), failOnErrors, per-operation errors', async () => {
    const { scim } = await tenant();
    const r = await scim('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        // refers to a user created later in the same request
        {
          method: 'POST',
          path: '/Groups',
          bulkId: 'ytrewq',
          data: {
            schemas: [GROUP],
            displayName: 'Tour Guides',
            members: [{ type: 'User', value: 'bulkId:qwerty' }],
          },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'qwerty',
          data: { schemas: [USER], userName: 'Alice' },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'boss',
          data: {
            schemas: [USER, ENTERPRISE],
            userName: 'Bob',
            [ENTERPRISE]: { manager: { value: 'bulkId:qwerty' } },
          },
        },
        {
          method: 'PUT',
          path: '/Users/b7c14771-226c-4d05-8860-134711653041',
          version: 'W/"3"',
          data: { schemas: [USER], userName: 'Nobody' },
        },
        {
          method: 'PATCH',
          path: '/Users/bulkId:qwerty',
          data: { schemas: [PATCH], Operations: [{ op: 'add', path: 'nickName', value: 'Al' }] },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'dup',
          data: { schemas: [USER], userName: 'alice' },
        },
        { method: 'DELETE', path: '/Groups/bulkId:missing' },
      ],
    });
    expect(r.status).toBe(200);
    const byBulk = Object.fromEntries(
      r.body.Operations.filter((o: { bulkId?: string }) => o.bulkId).map(
        (o: { bulkId: string }) => [o.bulkId, o],
      ),
    );
    expect(byBulk.qwerty).toMatchObject({
      method: 'POST',
      status: '201',
      location: expect.stringContaining('/Users/'),
    });
    expect(byBulk.ytrewq.status).toBe('201');
    expect(byBulk.boss.status).toBe('201');
    expect(byBulk.dup).toMatchObject({
      status: '409',
      response: { schemas: [ERROR], scimType: 'uniqueness', status: '409' },
    });
    const put = r.body.Operations.find((o: { method: string }) => o.method === 'PUT');
    expect(put.status).toBe('404');
    const del = r.body.Operations.find((o: { method: string }) => o.method === 'DELETE');
    expect(del.status).toBe('409');
    const alice = byBulk.qwerty.location.split('/').pop();
    const group = (await scim('GET', `/Groups/${byBulk.ytrewq.location.split('/').pop()}`)).body;
    expect(group.members.map((m: { value: string }) => m.value)).toEqual([alice]);
    const bob = (await scim('GET', `/Users/${byBulk.boss.location.split('/').pop()}`)).body;
    expect(bob[ENTERPRISE].manager.value).toBe(alice);
    expect((await scim('GET', `/Users/${alice}`)).body.nickName).toBe('Al');

    // PATCH a group, PUT and DELETE users, all in one request.
    const gid = byBulk.ytrewq.location.split('/').pop();
    const bobId = byBulk.boss.location.split('/').pop();
    const more = await scim('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        {
          method: 'PATCH',
          path: `/Groups/${gid}`,
          data: {
            schemas: [PATCH],
            Operations: [{ op: 'add', path: 'members', value: [{ value: bobId }] }],
          },
        },
        {
          method: 'PUT',
          path: `/Users/${alice}`,
          data: { schemas: [USER], userName: 'Alice', displayName: 'Alice A' },
        },
        { method: 'DELETE', path: `/Users/${bobId}` },
      ],
    });
    expect(more.body.Operations.map((o: { status: string }) => o.status)).toEqual([
      '200',
      '200',
      '204',
    ]);
    expect((await scim('GET', `/Users/${alice}`)).body.displayName).toBe('Alice A');
    expect((await scim('GET', `/Users/${bobId}`)).status).toBe(404);
    expect(
      (await scim('GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value),
    ).toEqual([alice]);

    // failOnErrors: 1 stops at the first error; later operations do not run.
    const stop = await scim('POST', '/Bulk', {
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'a',
          data: { schemas: [USER], userName: 'fine1' },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'b',
          data: { schemas: [USER], userName: 'fine1' },
        },
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'c',
          data: { schemas: [USER], userName: 'never' },
        },
      ],
    });
    expect(stop.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '409']);
    expect((await scim('GET', `/Users?filter=${q('userName eq "never"')}`)).body.totalResults).toBe(
      0,
    );

    const tooLarge = await scim('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'big',
          data: { schemas: [USER], userName: 'big', title: 'x'.repeat(1_100_000) },
        },
      ],
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ schemas: [ERROR], status: '413' });

    const tooMany = await scim('POST', '/Bulk', {
      schemas: [BULK],
      Operations: Array.from({ length: 1001 }, (_, i) => ({
        method: 'DELETE',
        path: `/Users/x${i}`,
      })),
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body).toMatchObject({ schemas: [ERROR], status: '413' });
  });

  it('malformed input is a 4xx SCIM error, never a 500', async () => {
    const { scim } = await tenant();
    const u = (await scim('POST', '/Users', { schemas: [USER], userName: 'target' })).body;
    const expectError = async (
      r: Awaited<ReturnType<typeof scim>>,
      status: number,
      scimType?: string,
    ) => {
      expect([r.status, r.body?.schemas]).toEqual([status, [ERROR]]);
      expect(r.body.status).toBe(String(status));
      if (scimType) expect(r.body.scimType).toBe(scimType);
    };
    for (const filter of [
      'userName eq',
      'userName xx "a"',
      '(userName eq "a"',
      'userName eq "a" extra',
      'foo eq "x"',
      'active co "x"',
      'userName eq unquoted',
      'meta.lastModified gt "not a date"',
      'emails[type eq "work"',
      'password eq "x"',
      '"just a string"',
      'x'.repeat(5000),
      'not userName eq "a"',
      'emails[value eq "a" and ims[value eq "b"]]',
    ]) {
      await expectError(await scim('GET', `/Users?filter=${q(filter)}`), 400, 'invalidFilter');
    }
    await expectError(
      await scim('GET', `/Groups?filter=${q('members.display co 5')}`),
      400,
      'invalidFilter',
    );
    await expectError(await scim('GET', '/Users?count=abc'), 400, 'invalidValue');
    await expectError(await scim('GET', '/Users?sortBy=emails.type'), 400, 'invalidValue');
    await expectError(await scim('GET', '/Users?sortOrder=sideways'), 400, 'invalidValue');

    const patch = (ops: unknown) =>
      scim('PATCH', `/Users/${u.id}`, { schemas: [PATCH], Operations: ops });
    await expectError(
      await patch([{ op: 'replace', path: 'emails[type eq "work"', value: 'x' }]),
      400,
      'invalidPath',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'name.nope', value: 'x' }]),
      400,
      'invalidPath',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'userName[value eq "x"]', value: 'x' }]),
      400,
      'invalidPath',
    );
    await expectError(await patch([{ op: 'replace', path: 42, value: 'x' }]), 400, 'invalidPath');
    await expectError(
      await patch([{ op: 'move', path: 'userName', value: 'x' }]),
      400,
      'invalidSyntax',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'active', value: 'maybe' }]),
      400,
      'invalidValue',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'name', value: 'str' }]),
      400,
      'invalidValue',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'emails', value: 'not-an-email' }]),
      400,
      'invalidValue',
    );
    await expectError(
      await patch([{ op: 'replace', value: ['not', 'an', 'object'] }]),
      400,
      'invalidValue',
    );
    await expectError(
      await patch([{ op: 'replace', path: 'locale', value: 'not a locale' }]),
      400,
      'invalidValue',
    );
    await expectError(await patch([]), 400, 'invalidSyntax');
    await expectError(await patch('nope'), 400, 'invalidSyntax');
    await expectError(
      await scim('PATCH', `/Users/${u.id}`, { schemas: ['urn:nope'], Operations: [] }),
      400,
      'invalidSyntax',
    );

    await expectError(
      await scim('POST', '/Users', { schemas: ['urn:example:unknown'], userName: 'x' }),
      400,
      'invalidSyntax',
    );
    await expectError(
      await scim('POST', '/Users', { schemas: [USER], userName: 'x', favouriteColour: 'blue' }),
      400,
      'invalidValue',
    );
    await expectError(await scim('POST', '/Users', { schemas: [USER] }), 400, 'invalidValue');
    await expectError(
      await scim('POST', '/Users', { schemas: [USER], userName: 'has space' }),
      400,
      'invalidValue',
    );
    await expectError(
      await scim('POST', '/Users', { schemas: [USER], userName: 'x'.repeat(129) }),
      400,
      'invalidValue',
    );
    await expectError(
      await scim('POST', '/Users', { schemas: [USER], userName: ['a'] }),
      400,
      'invalidValue',
    );
    await expectError(
      await scim('POST', '/Users', { schemas: [USER], userName: 'z', password: 'short' }),
      400,
      'invalidValue',
    );
    await expectError(await scim('POST', '/Users', '{"schemas": ['), 400, 'invalidSyntax');
    await expectError(await scim('POST', '/Users', [1, 2]), 400, 'invalidSyntax');
    await expectError(
      await scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'G',
        members: [{ value: 'not-a-user' }],
      }),
      400,
      'invalidValue',
    );
    await expectError(
      await scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'G',
        members: [{ value: u.id, type: 'Group' }],
      }),
      400,
      'invalidValue',
    );
    await expectError(await scim('POST', '/Groups', { schemas: [GROUP] }), 400, 'invalidValue');
    await expectError(
      await scim('POST', '/Bulk', { schemas: [BULK], Operations: 'x' }),
      400,
      'invalidSyntax',
    );
    await expectError(await scim('GET', '/Users/not-a-uuid'), 404);
    await expectError(await scim('GET', '/Nowhere'), 404);
    await expectError(await scim('DELETE', '/ServiceProviderConfig'), 404);
    const text = await scim('POST', '/Users', 'userName=x', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ schemas: [ERROR], status: '415' });
  });

  it('auth: no key 401, a key without the scim scope 403, another tenant 404, all as SCIM errors', async () => {
    const a = await tenant();
    const b = await tenant();
    const noKey = await t.http('GET', `/${a.tenantId}/scim/v2/Users`, { key: null });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toMatchObject({ schemas: [ERROR], status: '401' });
    expect(noKey.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const { key: noScope } = await newTenant(t, ['users:write']);
    const wrongScope = await t.http('GET', `/${a.tenantId}/scim/v2/Users`, { key: noScope });
    // the other tenant's key is fenced first (404), so check scope on its own tenant
    expect(wrongScope.status).toBe(404);
    const own = await newTenant(t, ['users:write', 'groups:write']);
    const forbidden = await scimClient(t, own.tenantId, own.key)('GET', '/Users');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ schemas: [ERROR], status: '403' });
    const user = (await a.scim('POST', '/Users', { schemas: [USER], userName: 'private' })).body;
    const cross = await scimClient(t, a.tenantId, b.key)('GET', `/Users/${user.id}`);
    expect(cross.status).toBe(404);
    expect(cross.body).toMatchObject({ schemas: [ERROR], status: '404' });
    const crossList = await scimClient(t, a.tenantId, b.key)('GET', '/Users');
    expect(crossList.status).toBe(404);
    // Tenant b's own endpoint does not see tenant a's user either.
    expect((await b.scim('GET', `/Users/${user.id}`)).status).toBe(404);
    expect(
      (await b.scim('GET', `/Users?filter=${q('userName eq "private"')}`)).body.totalResults,
    ).toBe(0);
  });
});
