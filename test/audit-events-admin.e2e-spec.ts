import { generate } from 'otplib';
import { AuditService } from '../src/audit/audit.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { userToken } from './user-token-support.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const UA = 'audit-events-test/1.0';

/** A code `steps` steps from now: each code is good once, so each call takes another step. */
const codeAt = (secret: string, steps: number) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

type Event = Record<string, unknown> & { type: string; details: Record<string, unknown> };

/** Management, SCIM and self-service MFA changes appear in the audit log with actor and IP. */
describe('audit events: admin API, SCIM and self-service MFA', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
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

  const call = (key: string, method: string, path: string, body?: unknown) =>
    t.http(method, path, { key, body, headers: { 'user-agent': UA } });

  it('records admin changes to users, keys, clients, signing keys and settings with the key as actor', async () => {
    const scopes = [
      'users:write',
      'api-keys:write',
      'clients:write',
      'signing-keys:write',
      'tenants:write',
    ];
    const { tenantId, key, keyId } = await newTenant(t, scopes);
    const base = `/api/v1/tenants/${tenantId}`;
    const user = await call(key, 'POST', `${base}/users`, {
      username: 'bob',
      password: 'x'.repeat(12),
    });
    expect(user.status).toBe(201);
    const userId = user.body.user_id;
    expect(
      (await call(key, 'PUT', `${base}/users/${userId}/password`, { password: 'y'.repeat(12) }))
        .status,
    ).toBe(204);
    expect((await call(key, 'POST', `${base}/users/${userId}/disable`)).status).toBe(200);
    expect((await call(key, 'POST', `${base}/users/${userId}/enable`)).status).toBe(200);
    const apiKey = await call(key, 'POST', `${base}/api-keys`, {
      name: 'ci',
      scopes: ['users:read'],
    });
    expect(apiKey.status).toBe(201);
    expect(
      (await call(key, 'POST', `${base}/api-keys/${apiKey.body.key_id}/regenerate`)).status,
    ).toBe(200);
    expect((await call(key, 'DELETE', `${base}/api-keys/${apiKey.body.key_id}`)).status).toBe(204);
    const c = await call(key, 'POST', `${base}/clients`, {
      name: 'Backend',
      client_type: 'confidential',
      grant_types: ['client_credentials'],
    });
    expect(c.status).toBe(201);
    expect((await call(key, 'POST', `${base}/clients/${c.body.client_id}/secret`)).status).toBe(
      200,
    );
    expect((await call(key, 'POST', `${base}/signing-keys/rotate`)).status).toBeLessThan(300);
    expect((await call(key, 'PATCH', base, { display_name: 'Renamed' })).status).toBe(200);
    expect((await call(key, 'DELETE', `${base}/users/${userId}`)).status).toBe(204);

    const all = await events(tenantId, 'admin.*');
    const seen = (type: string, subject?: string) => {
      const e = all.find(
        (x) => x.type === type && (subject === undefined || x.subject_id === subject),
      );
      expect(e).toBeDefined();
      expect(e).toMatchObject({
        actor_type: 'api_key',
        actor_id: keyId,
        ip: '127.0.0.1',
        user_agent: UA,
        outcome: 'success',
      });
      return e!;
    };
    seen('admin.user.create', userId);
    seen('admin.user.password.replace', userId);
    seen('admin.user.disable', userId);
    seen('admin.user.enable', userId);
    seen('admin.user.delete', userId);
    seen('admin.api-key.create', apiKey.body.key_id);
    seen('admin.api-key.regenerate', apiKey.body.key_id);
    seen('admin.api-key.delete', apiKey.body.key_id);
    seen('admin.client.create', c.body.client_id);
    seen('admin.client.secret', c.body.client_id);
    seen('admin.signing-key.rotate');
    seen('admin.tenant.update', tenantId);
    // The new password is never in the log.
    expect(JSON.stringify(all)).not.toContain('y'.repeat(12));
  });

  it('records batch creates and deletes per user', async () => {
    const { tenantId, key, keyId } = await newTenant(t, ['users:write']);
    const base = `/api/v1/tenants/${tenantId}/users`;
    const created = await call(key, 'POST', `${base}/batch`, {
      users: [{ username: 'u1' }, { username: 'u2' }, { username: 'bad name!' }],
    });
    expect(created.status).toBe(200);
    const ids: string[] = created.body.created_user_ids;
    expect(ids).toHaveLength(2);
    const missing = '00000000-0000-4000-8000-000000000000';
    const deleted = await call(key, 'POST', `${base}/batch-delete`, {
      users_ids: [...ids, missing],
    });
    expect(deleted.body.deleted_count).toBe(2);

    const all = await events(tenantId, 'admin.user.*');
    const summary = all.map((e) => `${e.type}:${e.subject_id}`).toSorted();
    expect(summary).toEqual(
      [
        ...ids.map((id) => `admin.user.create:${id}`),
        ...ids.map((id) => `admin.user.delete:${id}`),
      ].toSorted(),
    );
    for (const e of all) {
      expect(e).toMatchObject({
        actor_type: 'api_key',
        actor_id: keyId,
        ip: '127.0.0.1',
        details: { batch: true },
      });
    }
  });

  it('records SCIM changes, single and bulk, with the SCIM key as actor', async () => {
    const { tenantId, key, keyId } = await newTenant(t, ['scim']);
    const scim = (method: string, path: string, body?: unknown) =>
      t.http(method, `/${tenantId}/scim/v2${path}`, {
        key: null,
        body,
        headers: {
          authorization: `Bearer ${key}`,
          'user-agent': UA,
          ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        },
      });
    const u = await scim('POST', '/Users', { schemas: [USER], userName: 'carol' });
    expect(u.status).toBe(201);
    const off = await scim('PATCH', `/Users/${u.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.status).toBe(200);
    const g = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Staff' });
    expect(g.status).toBe(201);
    expect(
      (
        await scim('PATCH', `/Groups/${g.body.id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'add', path: 'members', value: [{ value: u.body.id }] }],
        })
      ).status,
    ).toBe(204);
    expect((await scim('DELETE', `/Groups/${g.body.id}`)).status).toBe(204);
    expect((await scim('DELETE', `/Users/${u.body.id}`)).status).toBe(204);
    const bulk = await scim('POST', '/Bulk', {
      schemas: [BULK],
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'd',
          data: { schemas: [USER], userName: 'dave' },
        },
        { method: 'POST', path: '/Users', bulkId: 'e', data: { schemas: [USER] } },
      ],
    });
    expect(bulk.status).toBe(200);
    const daveId = /\/Users\/(.+)$/.exec(bulk.body.Operations[0].location)![1];

    const all = await events(tenantId, 'scim.*');
    for (const e of all) {
      expect(e).toMatchObject({
        actor_type: 'api_key',
        actor_id: keyId,
        ip: '127.0.0.1',
        user_agent: UA,
        method: 'scim',
        outcome: 'success',
      });
    }
    const summary = all.map((e) => `${e.type}:${e.subject_id}`).toReversed();
    expect(summary).toEqual([
      `scim.user.created:${u.body.id}`,
      `scim.user.updated:${u.body.id}`,
      `scim.group.created:${g.body.id}`,
      `scim.group.updated:${g.body.id}`,
      `scim.group.deleted:${g.body.id}`,
      `scim.user.deleted:${u.body.id}`,
      // The failed bulk operation (no userName) changed nothing and is not logged.
      `scim.user.created:${daveId}`,
    ]);
    const deactivated = all.find((e) => e.type === 'scim.user.updated')!;
    expect(deactivated.details).toMatchObject({ operation: 'patch', active: false });
    expect(all[0].details).toMatchObject({ bulk: true });
  });

  it('records self-service TOTP changes with the user as actor, and admin resets with the key', async () => {
    const { tenantId, key, keyId } = await newTenant(t, ['users:write', 'api-keys:write']);
    const base = `/api/v1/tenants/${tenantId}`;
    const password = 'correct horse battery staple';
    const user = await call(key, 'POST', `${base}/users`, { username: 'erin', password });
    const userId = user.body.user_id as string;
    // Erin's own token from a fresh sign-in: TOTP changes ask for it.
    const userKey = await userToken(t, tenantId, 'erin', password);
    const totp = `${base}/me/totp`;

    const enrol = await call(userKey, 'POST', totp);
    expect(enrol.status).toBe(201);
    const secret = enrol.body.secret as string;
    const confirmed = await call(userKey, 'POST', `${totp}/confirm`, {
      code: await codeAt(secret, -1),
    });
    expect(confirmed.status).toBe(200);
    const wrong = await call(userKey, 'POST', `${totp}/recovery-codes`, { code: '12345' });
    expect(wrong.status).toBe(400);
    const regen = await call(userKey, 'POST', `${totp}/recovery-codes`, {
      code: await codeAt(secret, 0),
    });
    expect(regen.status).toBe(200);
    const off = await call(userKey, 'DELETE', totp, { code: regen.body.recovery_codes[0] });
    expect(off.status).toBe(204);
    // Enrol again for the admin reset.
    const again = await call(userKey, 'POST', totp);
    expect(
      (
        await call(userKey, 'POST', `${totp}/confirm`, {
          code: await codeAt(again.body.secret, 1),
        })
      ).status,
    ).toBe(200);
    expect((await call(key, 'DELETE', `${base}/users/${userId}/totp`)).status).toBe(204);

    const mine = await events(tenantId, 'mfa.*');
    for (const e of mine) {
      expect(e).toMatchObject({
        actor_type: 'user',
        actor_id: userId,
        subject_id: userId,
        ip: '127.0.0.1',
        user_agent: UA,
      });
    }
    expect(mine.map((e) => `${e.type}:${e.outcome}:${e.method}`).toReversed()).toEqual([
      'mfa.totp.enrolled:success:totp',
      'mfa.totp.confirmed:success:totp',
      'mfa.verify.failure:failure:totp',
      'mfa.recovery_codes.regenerated:success:totp',
      'mfa.recovery_code.used:success:recovery_code',
      'mfa.totp.disabled:success:recovery_code',
      'mfa.totp.enrolled:success:totp',
      'mfa.totp.confirmed:success:totp',
    ]);
    const [reset] = await events(tenantId, 'admin.user.totp.delete');
    expect(reset).toMatchObject({ actor_type: 'api_key', actor_id: keyId, subject_id: userId });
  });
});
