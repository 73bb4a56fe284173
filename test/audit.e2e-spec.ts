import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { describeAdminRoute } from '../src/audit/admin-audit.interceptor.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

describe('audit log', () => {
  let t: TestApp;
  let audit: AuditService;
  beforeAll(async () => {
    t = await startTestApp();
    audit = t.app.get(AuditService);
  });
  afterAll(() => t.close());

  const base = Date.UTC(2026, 0, 10, 12, 0, 0);
  const at = (minutes: number) => new Date(base + minutes * 60_000);

  async function seed(tenantId: string) {
    const events = [
      { type: 'login.success', subjectId: 'u-alice', method: 'password', occurredAt: at(0) },
      {
        type: 'login.failure',
        subjectId: 'u-bob',
        method: 'password',
        occurredAt: at(1),
        outcome: 'failure' as const,
      },
      { type: 'login.success', subjectId: 'u-bob', method: 'passkey', occurredAt: at(2) },
      {
        type: 'password.changed',
        subjectId: 'u-alice',
        actorType: 'user' as const,
        actorId: 'u-alice',
        occurredAt: at(3),
      },
      {
        type: 'admin.user.update',
        subjectId: 'u-carol',
        actorType: 'user' as const,
        actorId: 'u-alice',
        occurredAt: at(4),
      },
    ];
    for (const e of events) {
      audit.record({ tenantId, subjectType: 'user', ip: '203.0.113.9', userAgent: 'jest', ...e });
    }
    // Not in this tenant: must never show up in its log.
    const other = await newTenant(t);
    audit.record({
      tenantId: other.tenantId,
      type: 'login.success',
      subjectId: 'u-alice',
      occurredAt: at(0),
    });
    await audit.flush();
  }

  it('writes recorded events in batches and lists them newest first, with filters', async () => {
    const { tenantId, key } = await newTenant(t, ['audit:read']);
    expect(audit.record({ tenantId, type: 'noop', occurredAt: at(-5) })).toBeUndefined();
    await seed(tenantId);
    // Creating the tenant and its key were admin changes too; they happened now, not in January.
    const january = `from=${at(0).toISOString()}&to=${at(60).toISOString()}`;
    const all = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?${january}`, { key });
    expect(all.status).toBe(200);
    expect(all.body.data.map((e: { type: string }) => e.type)).toEqual([
      'admin.user.update',
      'password.changed',
      'login.success',
      'login.failure',
      'login.success',
    ]);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.data[4]).toMatchObject({
      tenant_id: tenantId,
      event_id: expect.any(String),
      occurred_at: at(0).toISOString(),
      actor_type: 'system',
      actor_id: null,
      subject_type: 'user',
      subject_id: 'u-alice',
      ip: '203.0.113.9',
      user_agent: 'jest',
      outcome: 'success',
      method: 'password',
      details: {},
    });

    const q = (query: string) =>
      t
        .http('GET', `/api/v1/tenants/${tenantId}/audit-events?${january}&${query}`, { key })
        .then((r) => {
          expect(r.status).toBe(200);
          return r.body.data.map(
            (e: { type: string; subject_id: string }) => `${e.type}:${e.subject_id}`,
          );
        });
    expect(await q('type=login.failure')).toEqual(['login.failure:u-bob']);
    expect(await q('type=login.*')).toEqual([
      'login.success:u-bob',
      'login.failure:u-bob',
      'login.success:u-alice',
    ]);
    // user matches the subject or the actor
    expect(await q('user=u-alice')).toEqual([
      'admin.user.update:u-carol',
      'password.changed:u-alice',
      'login.success:u-alice',
    ]);
    expect(await q('outcome=failure')).toEqual(['login.failure:u-bob']);
    const recent = await audit.recentSignIns(tenantId, 'u-bob');
    expect(recent.map((e) => `${e.type}:${e.method}`)).toEqual([
      'login.success:passkey',
      'login.failure:password',
    ]);
    const narrow = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?from=${at(1).toISOString()}&to=${at(3).toISOString()}`,
      { key },
    );
    expect(narrow.body.data.map((e: { type: string }) => e.type)).toEqual([
      'login.success',
      'login.failure',
    ]);
    const before = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?to=${at(0).toISOString()}`,
      { key },
    );
    expect(before.body.data.map((e: { type: string }) => e.type)).toEqual(['noop']);
  });

  it('pages with an opaque cursor without losing or repeating events', async () => {
    const { tenantId, key } = await newTenant(t, ['audit:read']);
    // Several events in one millisecond: the cursor must still separate them.
    const same = new Date(base);
    for (let i = 0; i < 7; i++)
      audit.record({ tenantId, type: 'login.success', subjectId: `u${i}`, occurredAt: same });
    for (let i = 0; i < 5; i++)
      audit.record({ tenantId, type: 'login.failure', subjectId: `v${i}`, occurredAt: at(i + 1) });
    await audit.flush();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: {
        status: number;
        body: { data: Array<{ event_id: string }>; next_cursor: string | null };
      } = await t.http(
        'GET',
        `/api/v1/tenants/${tenantId}/audit-events?type=login.*&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
        { key },
      );
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(5);
      seen.push(...r.body.data.map((e) => e.event_id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  it('refuses malformed queries with 400 and callers without audit:read with 403', async () => {
    const { tenantId, key } = await newTenant(t, ['audit:read']);
    const bad = [
      'limit=0',
      'limit=501',
      'limit=abc',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('1.x').toString('base64url')}`,
      'from=yesterday',
      `from=${at(5).toISOString()}&to=${at(1).toISOString()}`,
      'type=DROP%20TABLE',
      'outcome=maybe',
      'unknown=1',
    ];
    for (const query of bad) {
      const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?${query}`, { key });
      expect([query, r.status]).toEqual([query, 400]);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const exp = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events/export?cursor=zzz`, {
      key,
    });
    expect(exp.status).toBe(400);
    const other = await newTenant(t, ['users:read']);
    expect(
      (await t.http('GET', `/api/v1/tenants/${other.tenantId}/audit-events`, { key: other.key }))
        .status,
    ).toBe(403);
    // Another tenant's key: the tenant does not exist for it.
    expect(
      (await t.http('GET', `/api/v1/tenants/${other.tenantId}/audit-events`, { key })).status,
    ).toBe(404);
  });

  it('exports NDJSON that parses line by line, with the same filters', async () => {
    const { tenantId, key } = await newTenant(t, ['audit:read']);
    for (let i = 0; i < 1203; i++) {
      audit.record({
        tenantId,
        type: i % 3 ? 'login.success' : 'login.failure',
        subjectId: `u${i % 17}`,
        occurredAt: at(i),
      });
    }
    await audit.flush();
    const r = await fetch(
      `${t.baseUrl}/api/v1/tenants/${tenantId}/audit-events/export?type=login.failure`,
      {
        headers: { 'x-api-key': key },
      },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await r.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(401);
    expect(lines.every((e) => e.type === 'login.failure' && e.tenant_id === tenantId)).toBe(true);
    const times = lines.map((e) => e.occurred_at);
    expect(times.toSorted().toReversed()).toEqual(times);
    const everything = await fetch(
      `${t.baseUrl}/api/v1/tenants/${tenantId}/audit-events/export?type=login.*`,
      {
        headers: { 'x-api-key': key },
      },
    ).then((res) => res.text());
    expect(everything.trim().split('\n')).toHaveLength(1203);
  });

  it('records admin changes with the calling key as actor, its IP and user agent', async () => {
    const { tenantId, key, keyId } = await newTenant(t, [
      'tenants:write',
      'api-keys:write',
      'audit:read',
    ]);
    const patched = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      key,
      body: { display_name: 'Renamed' },
      headers: { 'user-agent': 'admin-console/1.0' },
    });
    expect(patched.status).toBe(200);
    const created = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      key,
      body: { name: 'ci', scopes: ['audit:read'] },
    });
    expect(created.status).toBe(201);
    const removed = await t.http(
      'DELETE',
      `/api/v1/tenants/${tenantId}/api-keys/${created.body.key_id}`,
      { key },
    );
    expect(removed.status).toBe(204);
    // A refused change changed nothing and is not an admin change.
    const refused = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      key,
      body: { pin_size: 'x' },
    });
    expect(refused.status).toBe(400);
    await audit.flush();

    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?type=admin.*&user=${keyId}`,
      { key },
    );
    // `user` matches actor or subject: the key's own creation (by the operator) is listed too.
    const mine = r.body.data.filter((e: { actor_id: string }) => e.actor_id === keyId);
    const byType = Object.fromEntries(mine.map((e: { type: string }) => [e.type, e]));
    expect(mine.map((e: { type: string }) => e.type)).toEqual([
      'admin.api-key.delete',
      'admin.api-key.create',
      'admin.tenant.update',
    ]);
    expect(byType['admin.tenant.update']).toMatchObject({
      actor_type: 'api_key',
      actor_id: keyId,
      subject_type: 'tenant',
      subject_id: tenantId,
      ip: '127.0.0.1',
      user_agent: 'admin-console/1.0',
      outcome: 'success',
      details: { http_method: 'PATCH', route: '/api/v1/tenants/:tenant_id' },
    });
    expect(byType['admin.api-key.create']).toMatchObject({
      actor_id: keyId,
      subject_id: created.body.key_id,
    });
    expect(byType['admin.api-key.delete']).toMatchObject({
      actor_id: keyId,
      subject_id: created.body.key_id,
    });
    // The operator created the tenant (before the tenant key existed): recorded in its log.
    const creation = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?type=admin.tenant.create`,
      { key },
    );
    expect(creation.body.data).toEqual([
      expect.objectContaining({ actor_type: 'api_key', subject_id: tenantId, ip: '127.0.0.1' }),
    ]);
    expect(creation.body.data[0].actor_id).not.toBe(keyId);
    expect(r.text).not.toContain(created.body.api_key);
  });

  it('names admin events from the route template', () => {
    expect(describeAdminRoute('POST', '/api/v1/tenants/:tenant_id/users')?.type).toBe(
      'admin.user.create',
    );
    expect(describeAdminRoute('PATCH', '/api/v1/tenants/:tenant_id/users/:user_id')).toEqual({
      type: 'admin.user.update',
      resource: 'user',
      subjectParam: 'user_id',
    });
    expect(
      describeAdminRoute('POST', '/api/v1/tenants/:tenant_id/users/:user_id/disable')?.type,
    ).toBe('admin.user.disable');
    expect(
      describeAdminRoute('DELETE', '/api/v1/tenants/:tenant_id/groups/:group_id/members/:user_id')
        ?.type,
    ).toBe('admin.group.members.delete');
    expect(describeAdminRoute('POST', '/api/v1/tenants/:tenant_id/signing-keys/rotate')?.type).toBe(
      'admin.signing-key.rotate',
    );
    expect(describeAdminRoute('GET', '/api/v1/tenants/:tenant_id/users')).toBeNull();
    expect(describeAdminRoute('DELETE', '/api/v1/tenants/:tenant_id')).toBeNull();
    expect(describeAdminRoute('PATCH', '/api/v1/tenants/:tenant_id/me/password')).toBeNull();
    expect(describeAdminRoute('POST', '/api/v1/api-keys')).toBeNull();
  });

  it('never fails the caller: events of a tenant deleted meanwhile are dropped, the rest written', async () => {
    const a = await newTenant(t, ['audit:read']);
    const b = await newTenant(t);
    audit.record({ tenantId: a.tenantId, type: 'login.success', subjectId: 'u1' });
    audit.record({ tenantId: 'no-such-tenant', type: 'login.success', subjectId: 'u2' });
    audit.record({ tenantId: b.tenantId, type: 'login.success', subjectId: 'u3' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    audit.record({
      tenantId: a.tenantId,
      type: 'login.success',
      subjectId: 'u4',
      details: circular,
    });
    await expect(audit.flush()).resolves.toBeUndefined();
    const r = await t.http('GET', `/api/v1/tenants/${a.tenantId}/audit-events?type=login.success`, {
      key: a.key,
    });
    const written = r.body.data.map((e: { subject_id: string; details: object }) => [
      e.subject_id,
      e.details,
    ]);
    expect(written.toSorted()).toEqual([
      ['u1', {}],
      ['u4', { unserializable: true }],
    ]);
  });

  it('writes what is still buffered when the server shuts down', async () => {
    const { tenantId } = await newTenant(t);
    const second = await startTestApp();
    second.app
      .get(AuditService)
      .record({ tenantId, type: 'login.success', subjectId: 'last-words' });
    await second.close();
    const rows = await t.app
      .get(DataSource)
      .query(
        `SELECT subject_id FROM audit_events WHERE tenant_id = $1 AND type = 'login.success'`,
        [tenantId],
      );
    expect(rows).toEqual([{ subject_id: 'last-words' }]);
  });

  it('retention removes events older than the retention in batches, and only those', async () => {
    const { tenantId } = await newTenant(t, ['audit:read']);
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      audit.record({
        tenantId,
        type: 'login.success',
        subjectId: 'old',
        occurredAt: new Date(now - (400 + i) * 86_400_000),
      });
    }
    audit.record({
      tenantId,
      type: 'login.success',
      subjectId: 'recent',
      occurredAt: new Date(now - 10 * 86_400_000),
    });
    await audit.flush();
    const db = t.app.get(DataSource);
    await audit.purgeExpired(new Date(now));
    const rows = await db.query(
      `SELECT subject_id FROM audit_events WHERE tenant_id = $1 AND type = 'login.success'`,
      [tenantId],
    );
    expect(rows).toEqual([{ subject_id: 'recent' }]);
    const rollups = await db.query(
      `SELECT count(*)::int AS n FROM login_rollups WHERE tenant_id = $1 AND bucket < now() - interval '365 days'`,
      [tenantId],
    );
    expect(rollups[0].n).toBe(0);
  });
});
