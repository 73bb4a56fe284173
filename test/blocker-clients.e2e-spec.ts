import { AuditService } from '../src/audit/audit.service.js';
import { startTestApp, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';

const limits = (ip: number, user: number) => ({
  block_config: {
    ip: { max_attempts: ip, window_seconds: 300, block_seconds: 900 },
    user: { max_attempts: user, window_seconds: 300, block_seconds: 900 },
  },
});

const basic = (id: string, secret: string) =>
  'Basic ' +
  Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

/**
 * Client secrets at the OAuth endpoints go through the same blocker as passwords: failures
 * count per IP and per client id, and a blocked client or address is refused with 429 and
 * Retry-After before its secret is compared. TRUST_PROXY lets the test speak from many IPs.
 */
describe('blocker: client authentication at the OAuth endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(() => t.close());

  async function setup(settings: Record<string, unknown>) {
    const tenant = await fixtures.tenant(t, {
      scopes: ['clients:write', 'blocker:write', 'audit:read'],
      settings,
    });
    const c = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/clients`, {
      key: tenant.key,
      body: { name: 'Backend', client_type: 'confidential', grant_types: ['client_credentials'] },
    });
    expect(c.status).toBe(201);
    return {
      ...tenant,
      clientId: c.body.client_id as string,
      secret: c.body.client_secret as string,
    };
  }

  function token(tenantId: string, ip: string, clientId: string, secret: string) {
    return t.http('POST', `/${tenantId}/token`, {
      key: null,
      headers: {
        authorization: basic(clientId, secret),
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': ip,
      },
      body: 'grant_type=client_credentials',
    });
  }

  async function events(tenantId: string, key: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?type=${type}`, { key });
    expect(r.status).toBe(200);
    return r.body.data as Array<Record<string, unknown>>;
  }

  it('blocks an IP at the N+1th wrong secret, refuses the right one until unblocked, serves another IP', async () => {
    const s = await setup(limits(3, 100));
    const ip = '203.0.113.10';
    for (let i = 0; i < 3; i++) {
      const r = await token(s.tenantId, ip, s.clientId, `wrong-${i}`);
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
    }
    const blocked = await token(s.tenantId, ip, s.clientId, s.secret);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('too_many_requests');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // Unknown clients from the blocked address are refused too, before any lookup answers.
    expect((await token(s.tenantId, ip, 'no-such-client', 'x')).status).toBe(429);

    const other = await token(s.tenantId, '203.0.113.11', s.clientId, s.secret);
    expect(other.status).toBe(200);
    expect(other.body.access_token).toEqual(expect.any(String));

    const listed = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-ips`, {
      key: s.key,
    });
    expect(listed.body.data.map((b: { ip: string }) => b.ip)).toEqual([ip]);
    const lifted = await t.http('DELETE', `/api/v1/tenants/${s.tenantId}/blocked-ips/${ip}`, {
      key: s.key,
    });
    expect(lifted.status).toBe(204);
    expect((await token(s.tenantId, ip, s.clientId, s.secret)).status).toBe(200);

    const failures = await events(s.tenantId, s.key, 'client_auth.failure');
    // Refused attempts (429) were never checked, so they are not failures.
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({
      actor_type: 'system',
      subject_type: 'client',
      ip,
      outcome: 'failure',
      details: { endpoint: 'token' },
    });
    expect(failures.every((e) => e.subject_id === s.clientId)).toBe(true);
    const [block] = await events(s.tenantId, s.key, 'blocker.block');
    expect(block).toMatchObject({ subject_type: 'ip', subject_id: ip, ip, actor_type: 'system' });
    const [unblock] = await events(s.tenantId, s.key, 'blocker.unblock');
    expect(unblock).toMatchObject({ subject_id: ip, actor_type: 'api_key', actor_id: s.keyId });
  });

  it('blocks a client id guessed from many IPs; a success forgives its earlier failures', async () => {
    const s = await setup(limits(100, 3));
    // Two failures, then a success: the client's counter starts again.
    await token(s.tenantId, '198.51.100.1', s.clientId, 'wrong');
    await token(s.tenantId, '198.51.100.2', s.clientId, 'wrong');
    expect((await token(s.tenantId, '198.51.100.3', s.clientId, s.secret)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await token(s.tenantId, `198.51.100.${10 + i}`, s.clientId, 'wrong')).status).toBe(
        401,
      );
    }
    const blocked = await token(s.tenantId, '198.51.100.50', s.clientId, s.secret);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);

    // Revocation and introspection authenticate the same client: refused as well.
    for (const path of ['revoke', 'introspect']) {
      const r = await t.http('POST', `/${s.tenantId}/${path}`, {
        key: null,
        headers: {
          authorization: basic(s.clientId, s.secret),
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '198.51.100.51',
        },
        body: 'token=abc',
      });
      expect(r.status).toBe(429);
    }

    // Client ids are their own kind: listed and lifted as clients, never as logins.
    const users = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-users`, {
      key: s.key,
    });
    expect(users.body.data).toEqual([]);
    const clients = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-clients`, {
      key: s.key,
    });
    expect(clients.body.data.map((b: { client_id: string }) => b.client_id)).toEqual([s.clientId]);
    const lifted = await t.http(
      'DELETE',
      `/api/v1/tenants/${s.tenantId}/blocked-clients/${encodeURIComponent(s.clientId)}`,
      { key: s.key },
    );
    expect(lifted.status).toBe(204);
    expect((await token(s.tenantId, '198.51.100.50', s.clientId, s.secret)).status).toBe(200);
  });

  it('counts failures at the revocation and introspection endpoints too', async () => {
    const s = await setup(limits(2, 100));
    const ip = '192.0.2.77';
    for (const path of ['revoke', 'introspect']) {
      const r = await t.http('POST', `/${s.tenantId}/${path}`, {
        key: null,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': ip,
        },
        body: `token=abc&client_id=${s.clientId}&client_secret=wrong`,
      });
      expect(r.status).toBe(401);
    }
    expect((await token(s.tenantId, ip, s.clientId, s.secret)).status).toBe(429);
    const failures = await events(s.tenantId, s.key, 'client_auth.failure');
    expect(failures.map((e) => e.details)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpoint: 'revocation' }),
        expect.objectContaining({ endpoint: 'introspection' }),
      ]),
    );
  });
});
