import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { exchange, firstPartyApp, signedIn, tenant, user } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { discover } from './oidc-support.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Durable Back-Channel Logout delivery (decision note 0026): notices wait in the
 * `backchannel_logout_outbox` table, so a failing app gets them on a later attempt, after a
 * restart of the server, and once only when two replicas deliver. Every app here shares one
 * master key (the tenants' signing keys are sealed with it) and fast retries: 4 attempts.
 */
const ENV = {
  OUTBOUND_ALLOW_PRIVATE: 'true',
  IDP_MASTER_KEY: randomBytes(32).toString('hex'),
  BACKCHANNEL_RETRY_MS: '300,300,300',
  BACKCHANNEL_POLL_MS: '100',
};

/**
 * An app's back-channel logout endpoint. `answer(n, sid)` decides the status of the n-th
 * request (from 1) and of each session's; accepted tokens are kept, with their sid.
 */
async function endpoint(answer: (n: number, sid: string, perSid: number) => number, delayMs = 0) {
  const accepted: Array<{ token: string; sid: string }> = [];
  const perSid = new Map<string, number>();
  let requests = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests += 1;
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
      const sid = String(payload.sid);
      perSid.set(sid, (perSid.get(sid) ?? 0) + 1);
      const status = answer(requests, sid, perSid.get(sid)!);
      setTimeout(() => {
        if (status === 200) accepted.push({ token, sid });
        res.statusCode = status;
        res.end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`,
    accepted,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, tries = 300) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A tenant with alice signed in to one app (logout URI `url`) in `sessions` browsers. */
async function signedInApp(a: TestApp, url: string, sessions = 1) {
  const tf = await tenant(a, { prefix: 'bclo' });
  const alice = await user(a, tf.tenantId);
  const r = await a.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
    body: { name: 'App', ...firstPartyApp(), backchannel_logout_uri: url },
  });
  expect(r.status).toBe(201);
  const config = await discover(tf.issuer, r.body.client_id, r.body.client_secret);
  const sids: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const tokens = await exchange(config, await signedIn(config, { scope: 'openid' }));
    sids.push(tokens.claims()!.sid as string);
  }
  const revokeAll = () =>
    a.http('DELETE', `/api/v1/tenants/${tf.tenantId}/users/${alice.user_id}/sessions`);
  return { ...tf, alice, clientId: r.body.client_id as string, sids, revokeAll };
}

/** What the app checks in a logout token, against the keys and issuer of `a`. */
async function verify(a: TestApp, tenantId: string, clientId: string, token: string) {
  const issuer = `${a.baseUrl}/${tenantId}`;
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), {
    issuer,
    audience: clientId,
    typ: 'logout+jwt',
  });
  expect(payload.events).toEqual({ [EVENT]: {} });
  return payload;
}

describe('Back-Channel Logout outbox (durable delivery)', () => {
  const db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  const apps: TestApp[] = [];
  const closers: Array<() => Promise<void>> = [];
  beforeAll(() => db.connect());
  // Each test's servers stop with it: a server left running would deliver the next test's notices.
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  });
  afterAll(async () => {
    for (const c of closers) await c();
    await db.end();
  });

  async function app(env: Record<string, string> = {}) {
    const a = await startTestApp({ env: { ...ENV, ...env } });
    apps.push(a);
    return a;
  }

  const pending = async (tenantId: string) =>
    (
      await db.query(
        'SELECT attempts, last_error FROM backchannel_logout_outbox WHERE tenant_id = $1',
        [tenantId],
      )
    ).rows as Array<{ attempts: number; last_error: string | null }>;

  it('an app that fails the first attempts gets the token on a later attempt', async () => {
    const a = await app();
    const ep = await endpoint((n) => (n <= 2 ? 503 : 200));
    closers.push(ep.close);
    const x = await signedInApp(a, ep.url);
    expect((await x.revokeAll()).status).toBe(200);
    await until('the third attempt', () => ep.accepted.length === 1);
    expect(ep.requests()).toBe(3);
    const payload = await verify(a, x.tenantId, x.clientId, ep.accepted[0].token);
    expect(payload).toMatchObject({ sub: x.alice.user_id, sid: x.sids[0] });
    await until('the outbox to empty', async () => (await pending(x.tenantId)).length === 0);
  });

  it('gives up after the last attempt with an audit event', async () => {
    const a = await app();
    const ep = await endpoint(() => 500);
    closers.push(ep.close);
    const x = await signedInApp(a, ep.url);
    await x.revokeAll();
    const failures = async () =>
      (
        await a.http(
          'GET',
          `/api/v1/tenants/${x.tenantId}/audit-events?type=logout.backchannel.failure`,
        )
      ).body.data as Array<Record<string, unknown>>;
    await until('the give-up event', async () => (await failures()).length === 1);
    expect(ep.requests()).toBe(4);
    const [event] = await failures();
    expect(event).toMatchObject({
      type: 'logout.backchannel.failure',
      details: expect.objectContaining({ client_id: x.clientId, attempts: 4 }),
    });
    expect(await pending(x.tenantId)).toEqual([]);
  });

  it('a pending delivery survives a restart: the next server on the same database delivers it', async () => {
    // Waits long enough that the notice is still pending when this server has stopped.
    const first = await app({ BACKCHANNEL_RETRY_MS: '1000,1000,1000,1000,1000' });
    let up = false;
    const ep = await endpoint(() => (up ? 200 : 503));
    closers.push(ep.close);
    const x = await signedInApp(first, ep.url);
    await x.revokeAll();
    await until('a failed attempt', () => ep.requests() >= 1);
    await first.close();
    const [row] = await pending(x.tenantId);
    expect(row.attempts).toBeGreaterThanOrEqual(1);
    expect(row.last_error).toContain('neither 200 nor 204');

    up = true;
    const second = await app();
    await until('delivery by the new server', () => ep.accepted.length === 1);
    const payload = await verify(second, x.tenantId, x.clientId, ep.accepted[0].token);
    expect(payload).toMatchObject({ sub: x.alice.user_id, sid: x.sids[0] });
    await until('the outbox to empty', async () => (await pending(x.tenantId)).length === 0);
  });

  it('two replicas deliver each notice exactly once', async () => {
    const [r1, r2] = [await app(), await app()];
    // Answers take a moment, as a real app's do, so deliveries under way overlap both replicas'
    // polls (every 100 ms): a notice not claimed exclusively would be sent twice.
    const ep = await endpoint(() => 200, 400);
    closers.push(ep.close);
    const x = await signedInApp(r1, ep.url, 8);
    expect((await x.revokeAll()).status).toBe(200);
    await until('every session to be told', () => ep.accepted.length >= 8);
    await until('the outbox to empty', async () => (await pending(x.tenantId)).length === 0);
    // A few more polls of both replicas: nothing is sent again.
    await new Promise((r) => setTimeout(r, 500));
    expect(ep.accepted.map((a) => a.sid).toSorted()).toEqual(x.sids.toSorted());
    expect(ep.requests()).toBe(8);
    for (const { token } of ep.accepted) {
      await verify(r2, x.tenantId, x.clientId, token).catch(() =>
        verify(r1, x.tenantId, x.clientId, token),
      );
    }
  }, 60_000);
});
