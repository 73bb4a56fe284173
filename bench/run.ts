/**
 * `npm run bench`: the hot paths against their limits. Starts the built server on a fresh
 * PostgreSQL database (with Redis) and a bare oidc-provider as the baseline, seeds one tenant, and
 * drives each scenario for a fixed time after a warm-up. One line per scenario: req/s, p50, p99,
 * non-2xx (must be 0), and server CPU-seconds per 1,000 requests (the figure compared).
 * Env: BENCH_SECONDS (10), BENCH_WARMUP (3), BENCH_CONNECTIONS (8), BENCH_ONLY (substring filter).
 */
import { cpus } from 'node:os';
import bcrypt from 'bcrypt';
import { Browser } from '../libs/testing/browser.js';
import {
  alternateRounds,
  combineRounds,
  formatResult,
  runScenario,
  type FlowScenario,
  type HttpScenario,
} from './harness.js';
import {
  authorizeCode,
  cpuSecondsOf,
  freshDatabase,
  ownCpuSeconds,
  settleDatabase,
  startBaseline,
  startServer,
} from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ONLY = process.env.BENCH_ONLY;
/** Alternating windows of ours and the bare provider per baselined scenario. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const REDIRECT = 'http://127.0.0.1:39399/cb';
const PASSWORD = 'correct horse battery staple';

const db = await freshDatabase('idp_bench');
const server = await startServer(db, 39300, {
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
});
const { process: baseline, ...bare } = await startBaseline(39301);

const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(server.url + path, {
    method,
    headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};

const basic = (id: string, secret: string) =>
  'Basic ' +
  Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = 'application/x-www-form-urlencoded';

const tenant = 'bench';
const issuer = `${server.url}/${tenant}`;

/** One measured window of a scenario against a process. */
const window = (sc: HttpScenario | FlowScenario, label: string, pid: number, warmup: number) =>
  runScenario(sc, {
    name: label,
    pid,
    seconds: SECONDS,
    warmupSeconds: warmup,
    connections: CONNECTIONS,
  });

async function scenario(
  name: string,
  s: HttpScenario | FlowScenario,
  baselineScenario?: HttpScenario | FlowScenario,
) {
  if (ONLY && !name.includes(ONLY)) return;
  await settleDatabase(db);
  if (!baselineScenario) {
    const r = await window(s, name, server.process.pid!, WARMUP);
    console.log(formatResult(r));
    return;
  }
  // Ours and the bare provider take turns; the ratio is the median of the rounds' ratios.
  const {
    a: ours,
    b: bares,
    ratios,
  } = await alternateRounds(ROUNDS, WARMUP, (side, warmup) =>
    side === 'a'
      ? window(s, name, server.process.pid!, warmup)
      : window(baselineScenario, `${name} [bare]`, baseline.pid!, warmup),
  );
  console.log(formatResult(combineRounds(ours), ratios));
  console.log(formatResult(combineRounds(bares)));
}

/** The hosted sign-in as alice (bench/lib.ts authorizeCode). */
function authorize(browser: Browser, clientId: string, scope: string) {
  return authorizeCode(browser, {
    issuer,
    clientId,
    scope,
    redirectUri: REDIRECT,
    login: 'alice',
    password: PASSWORD,
  });
}

async function tokenFromCode(
  client: { client_id: string; client_secret: string },
  code: string,
  verifier: string,
) {
  const r = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic(client.client_id, client.client_secret), 'content-type': FORM },
    body: form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }),
  });
  if (!r.ok) throw new Error(`token: ${r.status} ${await r.text()}`);
  return (await r.json()) as { access_token: string; refresh_token?: string; id_token: string };
}

try {
  await api('POST', '/api/v1/tenants', { tenant_id: tenant, display_name: 'Bench' });
  const user = await api('POST', `/api/v1/tenants/${tenant}/users`, {
    username: 'alice',
    email: 'alice@bench.test',
    password: PASSWORD,
  });
  const cc: Record<string, { client_id: string; client_secret: string }> = {};
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    cc[alg] = await api('POST', `/api/v1/tenants/${tenant}/clients`, {
      name: `cc ${alg}`,
      client_type: 'confidential',
      grant_types: ['client_credentials'],
      id_token_signed_response_alg: alg,
    });
  }
  const web = await api('POST', `/api/v1/tenants/${tenant}/clients`, {
    name: 'web',
    client_type: 'confidential',
    first_party: true,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT],
    allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
  });

  // --- client_credentials, each signing algorithm, against the bare provider with the same alg
  for (const alg of ['EdDSA', 'ES256', 'RS256']) {
    const b = bare.clients.find((c) => c.alg === alg)!;
    await scenario(
      `client_credentials ${alg}`,
      {
        kind: 'http',
        url: `${issuer}/token`,
        method: 'POST',
        headers: {
          authorization: basic(cc[alg].client_id, cc[alg].client_secret),
          'content-type': FORM,
        },
        body: 'grant_type=client_credentials',
      },
      {
        kind: 'http',
        url: `${bare.issuer}/token`,
        method: 'POST',
        headers: { authorization: basic(b.id, b.secret), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      },
    );
  }
  await scenario(
    'discovery',
    { kind: 'http', url: `${issuer}/.well-known/openid-configuration` },
    { kind: 'http', url: `${bare.issuer}/.well-known/openid-configuration` },
  );
  await scenario(
    'jwks',
    { kind: 'http', url: `${issuer}/jwks` },
    { kind: 'http', url: `${bare.issuer}/jwks` },
  );

  // --- user tokens: one sign-in gives the tokens the read scenarios use
  const signedIn = new Browser();
  const first = await authorize(signedIn, web.client_id, 'openid profile email offline_access');
  const tokens = await tokenFromCode(web, first.code, first.verifier);
  await scenario('userinfo', {
    kind: 'http',
    url: `${issuer}/userinfo`,
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  await scenario('introspection', {
    kind: 'http',
    url: `${issuer}/introspect`,
    method: 'POST',
    headers: { authorization: basic(web.client_id, web.client_secret), 'content-type': FORM },
    body: form({ token: tokens.access_token }),
  });
  await scenario('management read (GET user)', {
    kind: 'http',
    url: `${server.url}/api/v1/tenants/${tenant}/users/${user.user_id}`,
    headers: { 'x-api-key': server.operatorKey },
  });

  // --- refresh with rotation: each worker keeps its own chain of refresh tokens
  const chains: string[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const b = new Browser();
    const a = await authorize(b, web.client_id, 'openid offline_access');
    chains.push((await tokenFromCode(web, a.code, a.verifier)).refresh_token!);
  }
  await scenario('refresh_token with rotation', {
    kind: 'flow',
    steps: 1,
    run: async (worker) => {
      const r = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: basic(web.client_id, web.client_secret), 'content-type': FORM },
        body: form({ grant_type: 'refresh_token', refresh_token: chains[worker] }),
      });
      const body = (await r.json()) as { refresh_token?: string };
      if (body.refresh_token) chains[worker] = body.refresh_token;
      return r.ok;
    },
  });

  // --- authorization code with an existing session: authorize (+ redirects) → code → token
  const sessions: Browser[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const b = new Browser();
    await authorize(b, web.client_id, 'openid');
    sessions.push(b);
  }
  const codeFlowSteps = (await authorize(sessions[0], web.client_id, 'openid')).requests + 1;
  await scenario(`authorization code, existing session (${codeFlowSteps} requests)`, {
    kind: 'flow',
    steps: codeFlowSteps,
    run: async (worker) => {
      const a = await authorize(sessions[worker], web.client_id, 'openid');
      await tokenFromCode(web, a.code, a.verifier);
      return true;
    },
  });

  // --- full password sign-in: bcrypt-bound; compared with hash time × count ÷ cores
  if (!ONLY || 'password sign-in'.includes(ONLY)) {
    const cost = 12;
    // The bound is measured, not assumed: how long the cores take per hash when every core is
    // hashing (one compare per core at a time, as the server's thread pool runs them). Median
    // of three rounds.
    await settleDatabase(db);
    const probe = await bcrypt.hash('probe-password', cost);
    const rounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const perCore = 3;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: cpus().length }, async () => {
          for (let i = 0; i < perCore; i++) await bcrypt.compare('probe-password', probe);
        }),
      );
      rounds.push((performance.now() - t0) / perCore);
    }
    // Wall time per hash with every core busy = CPU time per hash on a fully loaded machine.
    const hashMs = rounds.toSorted((a, b) => a - b)[1];
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await bcrypt.compare('probe-password', probe);
      alone.push(performance.now() - t0);
    }
    const pw = await runScenario(
      {
        kind: 'flow',
        steps: 1,
        run: async () => {
          const a = await authorize(new Browser(), web.client_id, 'openid');
          await tokenFromCode(web, a.code, a.verifier);
          return true;
        },
      },
      {
        name: 'password sign-in (flows)',
        pid: server.process.pid!,
        seconds: SECONDS,
        warmupSeconds: WARMUP,
        connections: CONNECTIONS,
        probes: {
          'load generator': ownCpuSeconds,
          postgres: () => cpuSecondsOf('postgres'),
          redis: () => cpuSecondsOf('redis-server'),
        },
      },
    );
    // Sign-ins completed inside the measured window, every worker busy all along.
    const signIns = pw.requests;
    const limit = (hashMs * signIns) / cpus().length / 1000;
    const aloneMs = alone.toSorted((a, b) => a - b)[1];
    const strict = (aloneMs * signIns) / cpus().length / 1000;
    console.log(formatResult(pw));
    console.log(
      `password sign-in: ${signIns} in ${pw.wallSeconds.toFixed(1)} s; bcrypt ${hashMs.toFixed(0)} ms/hash with all cores hashing × ${signIns} ÷ ${cpus().length} cores = ${limit.toFixed(1)} s bound: wall/bound ${(pw.wallSeconds / limit).toFixed(2)}; with the single-hash time (${aloneMs.toFixed(0)} ms, cost ${cost}) ${strict.toFixed(1)} s: wall/bound ${(pw.wallSeconds / strict).toFixed(2)}; server CPU per sign-in ${(pw.cpuPer1k / aloneMs).toFixed(2)}× one hash`,
    );
    const serverCpu = (pw.cpuPer1k * signIns) / 1000;
    const others = Object.entries(pw.otherCpuSeconds ?? {})
      .map(([name, cpu]) => `${name} ${cpu.toFixed(1)}`)
      .join(', ');
    console.log(
      `password sign-in: CPU-s in the window (${cpus().length} cores × ${pw.wallSeconds.toFixed(1)} s = ${(cpus().length * pw.wallSeconds).toFixed(1)}): server ${serverCpu.toFixed(1)} (${signIns} hashes at the probe's rate: ${((hashMs * signIns) / 1000).toFixed(1)}), ${others}`,
    );
  }
} finally {
  baseline.kill('SIGTERM');
  await server.stop();
}
