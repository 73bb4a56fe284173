import { randomUUID } from 'node:crypto';
import { newTenant, startTestApp, uniqueTenantId, type TestApp } from './harness.js';

interface PlatformEvent {
  event_id: string;
  occurred_at: string;
  action: string;
  actor_type: string;
  actor_id: string | null;
  actor_holder: string | null;
  target_type: string;
  target_id: string | null;
  tenant_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

/** Operator actions reach the platform audit log, readable by operators only. */
describe('platform audit log', () => {
  let t: TestApp;
  let operatorKeyId: string;
  beforeAll(async () => {
    t = await startTestApp();
    const keys = await t.http('GET', '/api/v1/api-keys?limit=500');
    operatorKeyId = keys.body.data.find(
      (k: { name: string }) => k.name === 'bootstrap operator key',
    ).key_id;
  });
  afterAll(() => t.close());

  /** Every event since `since` about one target, oldest first. */
  async function eventsFor(targetId: string, since: string): Promise<PlatformEvent[]> {
    const r = await t.http(
      'GET',
      `/api/v1/audit-events?since=${encodeURIComponent(since)}&limit=500&sort_direction=1`,
    );
    expect(r.status).toBe(200);
    return (r.body.data as PlatformEvent[]).filter((e) => e.target_id === targetId);
  }

  it('records operator key create, update, regenerate and delete, without the key', async () => {
    const since = new Date().toISOString();
    const requestId = `req-${randomUUID()}`;
    const created = await t.http('POST', '/api/v1/api-keys', {
      body: { name: 'ops robot', scopes: ['operator'] },
      headers: { 'x-request-id': requestId },
    });
    expect(created.status).toBe(201);
    const keyId = created.body.key_id as string;
    expect(
      (await t.http('PATCH', `/api/v1/api-keys/${keyId}`, { body: { is_active: false } })).status,
    ).toBe(200);
    const regenerated = await t.http('POST', `/api/v1/api-keys/${keyId}/regenerate`);
    expect(regenerated.status).toBe(200);
    expect((await t.http('DELETE', `/api/v1/api-keys/${keyId}`)).status).toBe(204);
    // A refused call changed nothing and is not recorded.
    expect((await t.http('DELETE', `/api/v1/api-keys/${keyId}`)).status).toBe(404);

    const events = await eventsFor(keyId, since);
    expect(events.map((e) => e.action)).toEqual([
      'operator_key.create',
      'operator_key.update',
      'operator_key.regenerate',
      'operator_key.delete',
    ]);
    expect(events[0]).toMatchObject({
      actor_type: 'api_key',
      actor_id: operatorKeyId,
      actor_holder: 'operator',
      target_type: 'operator_key',
      tenant_id: null,
      request_id: requestId,
      details: { name: 'ops robot', scopes: ['operator'] },
    });
    expect(events[0].ip).toMatch(/127\.0\.0\.1$/);
    expect(events[1].details).toEqual({ fields: ['is_active'] });
    const text = JSON.stringify(events);
    expect(text).not.toContain(created.body.api_key);
    expect(text).not.toContain(regenerated.body.api_key);
  });

  it('records tenant create, update and delete, and the deletion outlives the tenant', async () => {
    const since = new Date().toISOString();
    const tenantId = uniqueTenantId('pa');
    expect(
      (
        await t.http('POST', '/api/v1/tenants', {
          body: { tenant_id: tenantId, display_name: 'A' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: { display_name: 'B' } }))
        .status,
    ).toBe(200);
    expect((await t.http('DELETE', `/api/v1/tenants/${tenantId}`)).status).toBe(204);

    const events = await eventsFor(tenantId, since);
    expect(events.map((e) => [e.action, e.target_type, e.tenant_id])).toEqual([
      ['tenant.create', 'tenant', tenantId],
      ['tenant.update', 'tenant', tenantId],
      ['tenant.delete', 'tenant', tenantId],
    ]);
    expect(events.every((e) => e.actor_id === operatorKeyId)).toBe(true);
    expect(events[1].details).toEqual({ fields: ['display_name'] });
  });

  it('records a tenant key updating its own tenant with that key as actor', async () => {
    const since = new Date().toISOString();
    const { tenantId, key, keyId } = await newTenant(t, ['tenants:write']);
    const r = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      key,
      body: { display_name: 'renamed' },
    });
    expect(r.status).toBe(200);
    const update = (await eventsFor(tenantId, since)).find((e) => e.action === 'tenant.update');
    expect(update).toMatchObject({ actor_id: keyId, actor_holder: 'tenant' });
  });

  it('is readable by operators only', async () => {
    const { key } = await newTenant(t, ['tenants:write', 'audit:read', 'api-keys:write']);
    const tenantKey = await t.http('GET', '/api/v1/audit-events', { key });
    expect(tenantKey.status).toBe(403);
    expect(tenantKey.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await t.http('GET', '/api/v1/audit-events', { key: null })).status).toBe(401);
  });

  it('filters by action and time, pages like other lists, and refuses bad filters', async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const tenantId = uniqueTenantId('pf');
      ids.push(tenantId);
      await t.http('POST', '/api/v1/tenants', { body: { tenant_id: tenantId, display_name: 'F' } });
    }
    await t.http('DELETE', `/api/v1/tenants/${ids[0]}`);

    const q = `since=${encodeURIComponent(since)}`;
    const first = await t.http('GET', `/api/v1/audit-events?${q}&action=tenant.create&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ has_next: true, total_count: 3 });
    expect(first.body.data).toHaveLength(2);
    // Newest first by default.
    expect(first.body.data.map((e: PlatformEvent) => e.target_id)).toEqual([ids[2], ids[1]]);
    const second = await t.http(
      'GET',
      `/api/v1/audit-events?${q}&action=tenant.create&limit=2&offset=2`,
    );
    expect(second.body).toMatchObject({ has_next: false, total_count: 3 });
    expect(second.body.data.map((e: PlatformEvent) => e.target_id)).toEqual([ids[0]]);

    const prefixed = await t.http('GET', `/api/v1/audit-events?${q}&action=tenant.*`);
    expect(prefixed.body.total_count).toBe(4);
    const none = await t.http(
      'GET',
      `/api/v1/audit-events?${q}&until=${encodeURIComponent(since)}`,
    );
    expect(none.body).toMatchObject({ data: [], total_count: 0 });

    for (const bad of [
      'since=yesterday',
      'action=tenant.%25',
      `since=${encodeURIComponent(new Date().toISOString())}&until=2000-01-01T00:00:00Z`,
    ]) {
      const r = await t.http('GET', `/api/v1/audit-events?${bad}`);
      expect([bad, r.status]).toEqual([bad, 400]);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });
});
