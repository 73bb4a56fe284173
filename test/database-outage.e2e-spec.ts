import { createServer, connect, type Server, type Socket } from 'node:net';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import pg from 'pg';
import { TenantEvents } from '../libs/tenancy/index.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { userSignIn } from './user-token-support.js';

/**
 * The application reaches PostgreSQL through a TCP relay the test can cut and restore: an
 * outage as the application sees it (connections refused, open ones reset).
 */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up() {
    if (this.server?.listening) return;
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    const address = this.server.address();
    if (address && typeof address === 'object') this.port = address.port;
  }

  async down() {
    await new Promise<void>((r) => {
      this.server!.close(() => r());
      for (const s of this.sockets) s.destroy();
    });
  }
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('a database outage', () => {
  const logs: string[] = [];
  let t: TestApp;
  let relay: Relay;

  beforeAll(async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    relay = new Relay({ host: url.hostname, port: Number(url.port || 5432) });
    await relay.up();
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    t = await startTestApp({ logs, env: { DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    await relay.up();
    await t.close();
    await relay.down();
  });

  it('answers 503 problem+json with Retry-After, warns once, and recovers by itself', async () => {
    const tenants = () => t.http('GET', '/api/v1/tenants?limit=1');
    expect((await tenants()).status).toBe(200);

    await relay.down();
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await tenants());
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.headers.get('retry-after')).toBe('5');
      expect(r.body).toMatchObject({ type: 'urn:idp:problem:unavailable', status: 503 });
    }
    // A hosted page that needs the database: a 503 page, not a 500.
    const page = await fetch(`${t.baseUrl}/not-loaded-tenant/login/forgot`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toContain('text/html');
    const ready = await t.http('GET', '/health/ready');
    expect(ready.status).toBe(503);
    // An OIDC route whose provider must be built from the database: 503 too, not 500.
    const discovery = await fetch(
      `${t.baseUrl}/not-loaded-tenant/.well-known/openid-configuration`,
    );
    expect(discovery.status).toBe(503);
    expect(discovery.headers.get('retry-after')).toBe('5');

    const lines = logs.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    expect(lines.filter((l) => l.msg.startsWith('database unavailable'))).toHaveLength(1);

    await relay.up();
    let back = await tenants();
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await tenants();
    }
    expect(back.status).toBe(200);
    expect((await t.http('GET', '/health/ready')).status).toBe(200);
  });

  it("answers the provider's own routes of a resident tenant (/token, /userinfo) 503 in the OAuth error format with Retry-After", async () => {
    const tf = await fixtures.tenant(t);
    await fixtures.user(t, tf.tenantId);
    const { config, tokens } = await userSignIn(
      t,
      tf.tenantId,
      'alice',
      PASSWORD,
      'openid offline_access account',
    );
    expect(tokens.refresh_token).toEqual(expect.any(String));
    let refreshToken = tokens.refresh_token!;
    // The account app's secret, new (its refresh token stays valid): the test calls /token itself.
    const appId = config.clientMetadata().client_id;
    const renewed = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients/${appId}/secret`);
    expect(renewed.status).toBeLessThan(300);
    const created = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: { name: 'svc', client_type: 'confidential', grant_types: ['client_credentials'] },
    });
    expect(created.status).toBe(201);
    const token = (authorization: string, body: string) =>
      fetch(`${t.baseUrl}/${tf.tenantId}/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const refresh = () =>
      token(
        basic(appId, renewed.body.client_secret as string),
        `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}`,
      );
    const clientCredentials = () =>
      token(
        basic(created.body.client_id as string, created.body.client_secret as string),
        'grant_type=client_credentials',
      );
    const userinfo = () =>
      fetch(`${t.baseUrl}/${tf.tenantId}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
    // The tenant's provider is built and resident: what follows reaches oidc-provider itself.
    expect((await userinfo()).status).toBe(200);
    expect((await clientCredentials()).status).toBe(200);
    const before = await refresh();
    expect(before.status).toBe(200);
    refreshToken = ((await before.json()) as { refresh_token: string }).refresh_token;
    const seen = logs.length;

    await relay.down();
    try {
      // A refresh (reads and rotates the stored grant) and userinfo (reads the stored token).
      for (const answer of [await refresh(), await userinfo(), await refresh()]) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('5');
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.headers.get('content-type')).toContain('application/json');
        expect(await answer.json()).toMatchObject({ error: 'temporarily_unavailable' });
      }
      // What needs no database keeps working: client_credentials tokens are JWTs, nothing stored.
      expect((await clientCredentials()).status).toBe(200);
      const discovery = await fetch(`${t.baseUrl}/${tf.tenantId}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
    } finally {
      await relay.up();
    }
    const lines = logs.slice(seen).map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(
      lines.filter(
        (l) => l.msg === 'unhandled error' || /OIDC server error|could not save/.test(l.msg),
      ),
    ).toEqual([]);

    let back = await refresh();
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await refresh();
    }
    expect(back.status).toBe(200);
    expect((await userinfo()).status).toBe(200);

    // Without Redis, other replicas' changes arrive over LISTEN: its connection, cut by the
    // outage, is back too (a notification as another replica sends it reaches the app).
    const seenHere: string[] = [];
    const off = t.app.get(TenantEvents).subscribe((e) => seenHere.push(e.tenantId));
    const db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    try {
      const message = JSON.stringify({ origin: 'another', type: 'changed', tenantId: tf.tenantId });
      await waitUntil(
        'a notification to reach the app again',
        async () => {
          await db.query('SELECT pg_notify($1, $2)', ['idp_tenant_events', message]);
          return seenHere.includes(tf.tenantId);
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
    } finally {
      off();
      await db.end();
    }
  });
});
