import { createServer, connect, type Server, type Socket } from 'node:net';
import { startTestApp, type TestApp } from './harness.js';

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
});
