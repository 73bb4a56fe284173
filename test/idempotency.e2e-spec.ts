import { newTenant, startTestApp, type TestApp } from './harness.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** One SCIM Bulk user create. */
const ops = (name: string) => ({
  schemas: [BULK],
  Operations: [
    { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER], userName: name } },
  ],
});

/** Idempotency-Key on POST users/batch and SCIM Bulk: a resend answers the first answer. */
describe('Idempotency-Key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const userCount = async (tenantId: string, key: string) =>
    (await t.http('GET', `/api/v1/tenants/${tenantId}/users?limit=1`, { key })).body.total_count;

  it('users/batch: same key and body replays, another body is 422, no key runs again', async () => {
    const { tenantId, key } = await newTenant(t, ['users:read', 'users:write']);
    const path = `/api/v1/tenants/${tenantId}/users/batch`;
    const body = { users: [{ username: 'ann' }, { username: 'ben' }] };
    const headers = { 'idempotency-key': 'batch-0001' };
    const first = await t.http('POST', path, { key, body, headers });
    expect(first.status).toBe(200);
    expect(first.body.created_user_ids).toHaveLength(2);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await t.http('POST', path, { key, body, headers });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await userCount(tenantId, key)).toBe(2);

    const other = await t.http('POST', path, {
      key,
      body: { users: [{ username: 'cat' }] },
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('urn:idp:problem:idempotency-key-reused');
    expect(await userCount(tenantId, key)).toBe(2);

    // Without the header the batch runs again: the users exist already.
    const plain = await t.http('POST', path, { key, body });
    expect(plain.status).toBe(200);
    expect(plain.body.created_user_ids ?? []).toHaveLength(0);

    // Keys are per tenant: another tenant's same key is its own.
    const b = await newTenant(t, ['users:read', 'users:write']);
    const elsewhere = await t.http('POST', `/api/v1/tenants/${b.tenantId}/users/batch`, {
      key: b.key,
      body,
      headers,
    });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.created_user_ids).toHaveLength(2);
    expect(elsewhere.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a failed request frees its key; a malformed key is 400', async () => {
    const { tenantId, key } = await newTenant(t, ['users:read', 'users:write']);
    const path = `/api/v1/tenants/${tenantId}/users/batch`;
    const headers = { 'idempotency-key': '"retry-after-fix"' };
    const refused = await t.http('POST', path, { key, body: { users: 'nope' }, headers });
    expect(refused.status).toBe(400);
    const fixed = await t.http('POST', path, {
      key,
      body: { users: [{ username: 'dan' }] },
      headers,
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.created_user_ids).toHaveLength(1);

    const bad = await t.http('POST', path, {
      key,
      body: { users: [{ username: 'eve' }] },
      headers: { 'idempotency-key': 'has space' },
    });
    expect(bad.status).toBe(400);
    expect(await userCount(tenantId, key)).toBe(1);
  });

  it('SCIM Bulk: a resend replays the first answer, another body is 422', async () => {
    const { tenantId, key } = await newTenant(t, ['scim', 'users:read']);
    const bulk = (body: unknown, idempotencyKey: string) =>
      t.http('POST', `/${tenantId}/scim/v2/Bulk`, {
        key: null,
        body,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/scim+json',
          'idempotency-key': idempotencyKey,
        },
      });
    const first = await bulk(ops('fay'), 'bulk-1');
    expect(first.status).toBe(200);
    expect(first.body.Operations[0].status).toBe('201');
    const again = await bulk(ops('fay'), 'bulk-1');
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await userCount(tenantId, key)).toBe(1);

    const other = await bulk(ops('gus'), 'bulk-1');
    expect(other.status).toBe(422);
    expect(await userCount(tenantId, key)).toBe(1);
  });
});
