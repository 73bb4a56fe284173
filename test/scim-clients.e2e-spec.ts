import { UserEvents, type UserEvent } from '../src/users/user-events.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

/**
 * Replays, against the running server, the request sequences Microsoft Entra ID and Okta send
 * when they provision a tenant (shapes from their public provisioning docs, see
 * shared/scim/entra-okta-shapes.md), reading the stored state back after each step.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

function scimClient(t: TestApp, tenantId: string, key: string) {
  const base = `/${tenantId}/scim/v2`;
  return (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.http(method, base + path, {
      key: null,
      body,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
        ...headers,
      },
    });
}

const q = (filter: string) => encodeURIComponent(filter);

describe('SCIM as Microsoft Entra ID and Okta drive it', () => {
  let t: TestApp;
  const events: UserEvent[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    t.app.get(UserEvents).subscribe((e) => {
      events.push(e);
    });
  });
  afterAll(() => t.close());

  it('Entra ID: connection test, users, manager, soft delete, groups and membership', async () => {
    const { tenantId, key } = await newTenant(t, ['scim']);
    const scim = scimClient(t, tenantId, key);

    // Connection test: a filter that matches nothing is 200 with an empty list, never 404.
    const probe = await scim(
      'GET',
      `/Users?filter=${q('userName eq "a0c3e4a8-14a2-4f8f-b6a5-6f0e2a1f3b11"')}`,
    );
    expect(probe.status).toBe(200);
    expect(probe.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(probe.body).toEqual({
      schemas: [LIST],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });

    // Create, in Entra's shape (roles [], meta, enterprise schema listed).
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee@contoso.onmicrosoft.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE]: { employeeNumber: '100', department: 'R&D' },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(created.headers.get('location')).toBe(`${t.baseUrl}/${tenantId}/scim/v2/Users/${id}`);
    expect(created.headers.get('etag')).toBe(created.body.meta.version);
    expect(created.body).toMatchObject({
      userName: 'Test_User_ab6490ee@contoso.onmicrosoft.com',
      active: true,
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      [ENTERPRISE]: { employeeNumber: '100', department: 'R&D' },
      meta: { resourceType: 'User' },
    });

    // The directory sees the user: the management API reads the same row.
    const mgmt = await t.http('GET', `/api/v1/tenants/${tenantId}/users/${id}`);
    expect(mgmt.body).toMatchObject({
      username: 'Test_User_ab6490ee@contoso.onmicrosoft.com',
      email: 'Test_User_fd0ea19b@testuser.com',
      given_name: 'givenName',
      family_name: 'familyName',
      external_id: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      is_disabled: false,
    });

    // Lookups by userName (case-insensitive) and by externalId.
    const byName = await scim(
      'GET',
      `/Users?filter=${q('userName eq "test_user_AB6490EE@contoso.onmicrosoft.com"')}`,
    );
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0].id).toBe(id);
    const byExt = await scim(
      'GET',
      `/Users?filter=${q('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`,
    );
    expect(byExt.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    // Update: capitalised ops, filtered value path, a sub-attribute.
    const updated = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'Replace',
          path: 'emails[type eq "work"].value',
          value: 'updatedEmail@microsoft.com',
        },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        { op: 'Add', path: 'addresses[type eq "work"].postalCode', value: '98052' },
      ],
    });
    expect(updated.status).toBe(200);
    let got = (await scim('GET', `/Users/${id}`)).body;
    expect(got.emails).toEqual([
      { primary: true, type: 'work', value: 'updatedEmail@microsoft.com' },
    ]);
    expect(got.name.familyName).toBe('updatedFamilyName');
    expect(got.phoneNumbers).toEqual([{ type: 'mobile', value: '+1 555 0100' }]);
    expect(got.addresses).toEqual([{ type: 'work', postalCode: '98052' }]);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/users/${id}`)).body.email).toBe(
      'updatedEmail@microsoft.com',
    );

    // Path-less replace whose keys are attribute paths, the enterprise extension included.
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'replace',
          value: { displayName: 'B', 'name.givenName': 'K', [`${ENTERPRISE}:employeeNumber`]: '7' },
        },
      ],
    });
    got = (await scim('GET', `/Users/${id}`)).body;
    expect(got.displayName).toBe('B');
    expect(got.name.givenName).toBe('K');
    expect(got[ENTERPRISE]).toMatchObject({ employeeNumber: '7', department: 'R&D' });

    // Manager: a second user, referenced by a bare id string.
    const boss = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'boss@contoso.com',
      displayName: 'The Boss',
    });
    const mgr = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: `${ENTERPRISE}:manager`, value: boss.body.id }],
    });
    expect(mgr.status).toBe(200);
    got = (await scim('GET', `/Users/${id}`)).body;
    expect(got[ENTERPRISE].manager).toEqual({
      value: boss.body.id,
      $ref: `${t.baseUrl}/${tenantId}/scim/v2/Users/${boss.body.id}`,
      displayName: 'The Boss',
    });
    const reports = await scim(
      'GET',
      `/Users?filter=${q(`${ENTERPRISE}:manager.value eq "${boss.body.id}"`)}`,
    );
    expect(reports.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const unknownManager = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'replace',
          path: `${ENTERPRISE}:manager`,
          value: '00000000-0000-4000-8000-000000000000',
        },
      ],
    });
    expect(unknownManager.status).toBe(400);
    expect(unknownManager.body.scimType).toBe('invalidValue');
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: `${ENTERPRISE}:manager` }],
    });
    expect((await scim('GET', `/Users/${id}`)).body[ENTERPRISE].manager).toBeUndefined();

    // Soft delete: "False" as a string; the user stays readable, and sessions/tokens end.
    events.length = 0;
    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    got = await scim('GET', `/Users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.active).toBe(false);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/users/${id}`)).body.is_disabled).toBe(
      true,
    );
    expect(events).toContainEqual({ type: 'disabled', tenantId, userId: id });
    const inactive = await scim('GET', `/Users?filter=${q('active eq false')}`);
    expect(inactive.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);

    // Reactivate (aadOptscim062020 mode: real booleans, lower-case op).
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: true }],
    });
    expect((await scim('GET', `/Users/${id}`)).body.active).toBe(true);
    expect(events).toContainEqual({ type: 'enabled', tenantId, userId: id });

    // Groups: unknown schema URNs tolerated; lookup by displayName without members.
    const g = await scim('POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Sales & Marketing',
      meta: { resourceType: 'Group' },
    });
    expect(g.status).toBe(201);
    const gid: string = g.body.id;
    const found = await scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${q('displayName eq "sales & marketing"')}`,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toMatchObject({ id: gid, displayName: 'Sales & Marketing' });
    expect(found.body.Resources[0].members).toBeUndefined();

    // Membership: add, then remove with a value list, then add + remove in one PATCH (204 each).
    const add = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }],
    });
    expect(add.status).toBe(204);
    expect(
      (await scim('GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value),
    ).toEqual([id]);
    expect((await scim('GET', `/Users/${id}`)).body.groups).toEqual([
      {
        value: gid,
        $ref: `${t.baseUrl}/${tenantId}/scim/v2/Groups/${gid}`,
        display: 'Sales & Marketing',
        type: 'direct',
      },
    ]);
    const remove = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: id }] }],
    });
    expect(remove.status).toBe(204);
    expect((await scim('GET', `/Groups/${gid}`)).body.members).toBeUndefined();
    await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }],
    });
    const both = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Add', path: 'members', value: [{ value: boss.body.id }] },
        { op: 'remove', path: `members[value eq "${id}"]` },
      ],
    });
    expect(both.status).toBe(204);
    expect(
      (await scim('GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value),
    ).toEqual([boss.body.id]);
    // The directory's own API sees the same membership.
    const members = await t.http('GET', `/api/v1/tenants/${tenantId}/groups/${gid}/members`);
    expect(members.body.data.map((u: { user_id: string }) => u.user_id)).toEqual([boss.body.id]);

    // A member that does not exist is refused, and nothing of that PATCH is applied.
    const bad = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Never' },
        { op: 'Add', path: 'members', value: [{ value: '00000000-0000-4000-8000-000000000000' }] },
      ],
    });
    expect(bad.status).toBe(400);
    expect((await scim('GET', `/Groups/${gid}`)).body.displayName).toBe('Sales & Marketing');

    // Rename.
    const renamed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'displayName', value: '1879db59updatedDisplayName' }],
    });
    expect(renamed.status).toBe(204);
    expect((await scim('GET', `/Groups/${gid}`)).body.displayName).toBe(
      '1879db59updatedDisplayName',
    );

    // Duplicate create: 409 uniqueness, status as a string.
    const dup = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'TEST_USER_ab6490ee@contoso.onmicrosoft.com',
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });

    // Delete: the user is gone, with its memberships; the deletion is announced.
    expect((await scim('DELETE', `/Users/${boss.body.id}`)).status).toBe(204);
    expect(events).toContainEqual({ type: 'deleted', tenantId, userId: boss.body.id });
    const gone = await scim('GET', `/Users/${boss.body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ schemas: [ERROR], status: '404' });
    expect((await scim('GET', `/Groups/${gid}`)).body.members).toBeUndefined();
    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await scim('GET', `/Groups/${gid}`)).status).toBe(404);
  });

  it('Okta: lookup with paging, create with password, PUT, deactivate, group push and membership', async () => {
    const { tenantId, key } = await newTenant(t, ['scim']);
    const scim = scimClient(t, tenantId, key);

    const none = await scim(
      'GET',
      '/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100',
    );
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });

    const created = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'test.user@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq-Long',
      active: true,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(created.body.password).toBeUndefined();
    expect(created.text).not.toContain('1mz050nq');
    const db = t.app.get((await import('typeorm')).DataSource);
    const [row] = await db.query(
      'SELECT password_hash FROM users WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, id],
    );
    expect(row.password_hash).toMatch(/^\$2[aby]\$04\$/);

    const list = await scim(
      'GET',
      '/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100',
    );
    expect(list.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(typeof list.body.totalResults).toBe('number');

    // Profile update as a full PUT (Okta sends everything, read-only parts included).
    const put = await scim('PUT', `/Users/${id}`, {
      schemas: [USER],
      id,
      userName: 'test.user@okta.local',
      name: { givenName: 'Tess', familyName: 'User' },
      emails: [{ primary: true, value: 'tess.user@okta.local', type: 'work' }],
      displayName: 'Tess User',
      locale: 'en-GB',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      active: true,
      meta: { resourceType: 'User' },
    });
    expect(put.status).toBe(200);
    let got = (await scim('GET', `/Users/${id}`)).body;
    expect(got).toMatchObject({
      name: { givenName: 'Tess', familyName: 'User' },
      displayName: 'Tess User',
      locale: 'en-GB',
      emails: [{ primary: true, value: 'tess.user@okta.local', type: 'work' }],
      active: true,
    });

    // Deactivate with a path-less replace; Okta never deletes.
    events.length = 0;
    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.status).toBe(200);
    expect((await scim('GET', `/Users/${id}`)).body.active).toBe(false);
    expect(events).toContainEqual({ type: 'disabled', tenantId, userId: id });
    // A PUT without `active` does not quietly reactivate.
    await scim('PUT', `/Users/${id}`, {
      schemas: [USER],
      userName: 'test.user@okta.local',
      displayName: 'Tess User',
    });
    got = (await scim('GET', `/Users/${id}`)).body;
    expect(got.active).toBe(false);
    expect(got.emails).toBeUndefined();
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect((await scim('GET', `/Users/${id}`)).body.active).toBe(true);

    // Group push.
    const u2 = (
      await scim('POST', '/Users', { schemas: [USER], userName: 'second.user@okta.local' })
    ).body.id;
    const g = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Test SCIMv2',
      members: [],
    });
    expect(g.status).toBe(201);
    const gid = g.body.id;
    // Rename sent with the group's own id in the value (ignored).
    const rename = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: gid, displayName: 'Test SCIMv2 Renamed' } }],
    });
    expect(rename.status).toBe(204);
    expect((await scim('GET', `/Groups/${gid}`)).body.displayName).toBe('Test SCIMv2 Renamed');

    await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: id, display: 'test.user@okta.local' }] },
      ],
    });
    const swap = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'remove', path: `members[value eq "${id}"]` },
        { op: 'add', path: 'members', value: [{ value: u2, display: 'second.user@okta.local' }] },
      ],
    });
    expect(swap.status).toBe(204);
    expect((await scim('GET', `/Groups/${gid}`)).body.members).toEqual([
      expect.objectContaining({ value: u2, display: 'second.user@okta.local', type: 'User' }),
    ]);
    // Full replacement of the member list.
    await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'members', value: [{ value: id }, { value: u2 }] }],
    });
    const after = (await scim('GET', `/Groups/${gid}`)).body.members
      .map((m: { value: string }) => m.value)
      .toSorted();
    expect(after).toEqual([id, u2].toSorted());

    // Group push as a full PUT: name and members replaced together.
    const groupPut = await scim('PUT', `/Groups/${gid}`, {
      schemas: [GROUP],
      id: gid,
      displayName: 'Test SCIMv2 Put',
      members: [{ value: u2, display: 'second.user@okta.local' }],
    });
    expect(groupPut.status).toBe(200);
    expect(groupPut.body).toMatchObject({
      displayName: 'Test SCIMv2 Put',
      members: [expect.objectContaining({ value: u2 })],
    });
    expect(
      (await scim('GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value),
    ).toEqual([u2]);

    const dup = await scim('POST', '/Users', { schemas: [USER], userName: 'test.user@okta.local' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({
      schemas: [ERROR],
      status: '409',
      scimType: 'uniqueness',
      detail: expect.any(String),
    });
    const unknown = await scim('GET', '/Users/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('/Me answers the user a user key acts as; deactivation stops that key', async () => {
    const { tenantId, key } = await newTenant(t, ['scim', 'api-keys:write']);
    const scim = scimClient(t, tenantId, key);
    const u = (await scim('POST', '/Users', { schemas: [USER], userName: 'me.user' })).body;
    const userKey = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'self', scopes: ['scim'], user_id: u.id },
    });
    expect(userKey.status).toBe(201);
    const asUser = scimClient(t, tenantId, userKey.body.api_key);
    const me = await asUser('GET', '/Me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: u.id, userName: 'me.user' });
    // A user key is not a provisioning credential.
    expect((await asUser('GET', '/Users')).status).toBe(403);
    // The tenant key acts as nobody.
    expect((await scim('GET', '/Me')).status).toBe(404);

    await scim('PATCH', `/Users/${u.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    const after = await asUser('GET', '/Me');
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ schemas: [ERROR], status: '401' });
  });
});
