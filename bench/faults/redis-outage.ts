/**
 * What a Redis outage costs the hot paths: the same requests timed with Redis up and with it
 * killed (a redis-server of its own on a private port), on PostgreSQL, in process.
 *
 *   npm run build && node dist/bench/faults/redis-outage.js
 *
 * Prints one JSON line per path and phase (median and p95 in ms) and the added median while
 * down. BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server; a
 * scratch database is created and dropped. BENCH_SAMPLES (default 200) per path and phase.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, findForm } from '../../libs/testing/browser.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { OwnRedis } from './own-redis.js';
import { scratchDatabase } from './scratch-database.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const REDIRECT = 'http://127.0.0.1:9999/cb';

const quantile = (xs: number[], q: number) =>
  xs.toSorted((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function time(n: number, f: () => Promise<void>): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await f();
    ms.push(performance.now() - start);
  }
  return { p50: +quantile(ms, 0.5).toFixed(2), p95: +quantile(ms, 0.95).toFixed(2) };
}

async function main() {
  const db = await scratchDatabase();
  const redis = await OwnRedis.start();
  const operatorKey = `bench-operator-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-faults-')),
    IDP_MASTER_KEY: randomBytes(32).toString('hex'),
    IDP_BOOTSTRAP_OPERATOR_KEY: operatorKey,
    LOG_LEVEL: 'error',
    NODE_ENV: 'bench',
    BCRYPT_COST: '4',
  });
  const { app } = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  config.publicUrl = base;
  const api = async (path: string, body: unknown) => {
    const r = await fetch(`${base}/api/v1${path}`, {
      method: 'POST',
      headers: { 'x-api-key': operatorKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, string>>;
  };
  const tenant = `faults-${Date.now().toString(36)}`;
  await api('/tenants', { tenant_id: tenant, display_name: 'Faults' });
  await api(`/tenants/${tenant}/users`, { username: 'alice', password: 'bench password 123' });
  const c = await api(`/tenants/${tenant}/clients`, {
    name: 'Bench',
    client_type: 'confidential',
    first_party: true,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'client_credentials'],
    allowed_scopes: ['openid', 'profile'],
  });
  const basic = `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`;
  const token = async (body: string) => {
    const r = await fetch(`${base}/${tenant}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${await r.text()}`);
    return (await r.json()) as { access_token: string };
  };
  /** A whole hosted sign-in with the password, ending with the code exchange. */
  const signIn = async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      client_id: c.client_id,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const browser = new Browser();
    let res = await browser.get(`${base}/${tenant}/authorize?${q}`);
    for (let hop = 0; hop < 10; hop++) {
      const next = new URL(res.location!, res.url);
      if (next.href.startsWith(REDIRECT)) {
        const body = new URLSearchParams({
          grant_type: 'authorization_code',
          code: next.searchParams.get('code')!,
          redirect_uri: REDIRECT,
          code_verifier: verifier,
        });
        return token(body.toString());
      }
      res = await browser.get(next);
      if (res.status === 200 && res.html.includes('name="password"')) {
        const form = findForm(res.html, '/login');
        res = await browser.post(new URL(form.action, next), {
          ...form.fields,
          login: 'alice',
          password: 'bench password 123',
        });
      }
    }
    throw new Error('sign-in did not finish');
  };
  const { access_token: userToken } = await signIn();
  const paths: Record<string, () => Promise<unknown>> = {
    token: () => token('grant_type=client_credentials'),
    userinfo: async () => {
      const r = await fetch(`${base}/${tenant}/userinfo`, {
        headers: { authorization: `Bearer ${userToken}` },
      });
      if (r.status !== 200) throw new Error(`userinfo: ${r.status}`);
    },
    'sign-in': signIn,
  };
  const results: Record<string, Record<string, { p50: number; p95: number }>> = {};
  for (const phase of ['up', 'down']) {
    if (phase === 'down') await redis.stop();
    for (const [name, f] of Object.entries(paths)) {
      const n = name === 'sign-in' ? Math.ceil(SAMPLES / 5) : SAMPLES;
      await time(5, async () => void (await f())); // warm-up
      (results[name] ??= {})[phase] = await time(n, async () => void (await f()));
      console.log(JSON.stringify({ path: name, redis: phase, ...results[name][phase] }));
    }
  }
  for (const [name, r] of Object.entries(results))
    console.log(
      JSON.stringify({ path: name, added_median_ms: +(r.down.p50 - r.up.p50).toFixed(2) }),
    );
  await app.close();
  await redis.stop();
  await db.drop();
}

await main();
