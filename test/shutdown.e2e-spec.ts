import http from 'node:http';
import { connect } from 'node:net';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { installSignalHandlers } from '../src/shutdown.js';
import { createClient, createTenant } from './oidc-support.js';

interface Outcome {
  ok: number;
  refused: number;
  lost: string[];
  closeAfterDrain: number;
  keptOpenAfterDrain: number;
}

/**
 * One keep-alive connection sending requests back to back until the server refuses a new
 * connection. `lost` collects every request that failed in any other way (reset, hang-up):
 * a request the server had taken and never answered.
 */
async function loop(
  send: (agent: http.Agent) => Promise<http.IncomingMessage>,
  drained: () => boolean,
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: Outcome = { ok: 0, refused: 0, lost: [], closeAfterDrain: 0, keptOpenAfterDrain: 0 };
  for (let i = 0; i < 100_000; i++) {
    // Asked once the server is draining (the answer must then say `Connection: close`).
    const askedWhileDraining = drained();
    try {
      const res = await send(agent);
      res.resume();
      await new Promise((r) => res.once('end', r));
      if (res.statusCode === 200) out.ok += 1;
      else out.lost.push(`status ${res.statusCode}`);
      if (askedWhileDraining) {
        if (res.headers.connection === 'close') out.closeAfterDrain += 1;
        else out.keptOpenAfterDrain += 1;
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (code === 'ECONNREFUSED') out.refused += 1;
      else out.lost.push(code);
      break;
    }
  }
  agent.destroy();
  return out;
}

describe('graceful shutdown (SIGTERM)', () => {
  let t: TestApp;
  let tenantId: string;
  let client: { client_id: string; client_secret?: string };

  beforeAll(async () => {
    t = await startTestApp({ env: { SHUTDOWN_DRAIN_SECONDS: '3' } });
    tenantId = uniqueTenantId('drain');
    await createTenant(t, tenantId);
    client = await createClient(t, tenantId, {
      client_type: 'confidential',
      grant_types: ['client_credentials'],
      redirect_uris: [],
    });
  });
  afterAll(async () => {
    await t.app.close().catch(() => undefined);
  });

  it('answers every request taken under keep-alive load, closes connections, and exits within the drain', async () => {
    const { port } = new URL(t.baseUrl);
    let draining = false;
    let exitCode: number | undefined;
    const exited = new Promise<void>((resolve) => {
      installSignalHandlers(t.app, silent, t.config, (code) => {
        exitCode = code;
        resolve();
      });
    });
    const auth = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
    const token = (agent: http.Agent) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: `/${tenantId}/token`,
            method: 'POST',
            agent,
            headers: {
              authorization: `Basic ${auth}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
          },
          resolve,
        );
        req.once('error', reject);
        req.end('grant_type=client_credentials');
      });
    const health = (agent: http.Agent) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/health', agent }, resolve);
        req.once('error', reject);
      });

    // A client that sends half a request and then nothing: only the deadline ends it.
    const stalled = connect(Number(port), '127.0.0.1');
    await new Promise((r) => stalled.once('connect', r));
    stalled.write(`GET /health HTTP/1.1\r\nHost: x\r\n`);
    stalled.on('error', () => undefined);

    const loops = [
      ...Array.from({ length: 4 }, () => loop(token, () => draining)),
      ...Array.from({ length: 4 }, () => loop(health, () => draining)),
    ];
    // Let the load run, then signal.
    await new Promise((r) => setTimeout(r, 500));
    // The handler starts draining synchronously, so requests sent from here on are "while draining".
    process.emit('SIGTERM', 'SIGTERM');
    draining = true;
    const outcomes = await Promise.all(loops);
    await exited;

    const total = outcomes.reduce(
      (a, o) => ({
        ok: a.ok + o.ok,
        refused: a.refused + o.refused,
        lost: [...a.lost, ...o.lost],
        closeAfterDrain: a.closeAfterDrain + o.closeAfterDrain,
        keptOpenAfterDrain: a.keptOpenAfterDrain + o.keptOpenAfterDrain,
      }),
      { ok: 0, refused: 0, lost: [] as string[], closeAfterDrain: 0, keptOpenAfterDrain: 0 },
    );
    console.log(`drain: ${JSON.stringify({ ...total, lost: total.lost.length })}`);
    expect(total.lost).toEqual([]);
    expect(total.ok).toBeGreaterThan(8);
    // Every connection ended with a refused reconnect: the server stopped accepting.
    expect(total.refused).toBe(8);
    // Requests sent while draining were answered with `Connection: close`.
    expect(total.keptOpenAfterDrain).toBe(0);
    expect(total.closeAfterDrain).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
    expect(t.app.getHttpServer().listening).toBe(false);
    stalled.destroy();
  }, 30_000);
});

const silent = { info: () => undefined, error: () => undefined } as never;
