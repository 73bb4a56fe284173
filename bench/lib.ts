import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { findForm, type Browser } from '../libs/testing/browser.js';

export const ADMIN_PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh PostgreSQL database for one benchmark run (dropped first if it exists). */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_PG });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_PG);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Vacuums and checkpoints the database, so a scenario does not pay for the clean-up of the
 * rows an earlier one left (autovacuum would otherwise run inside the next measured window).
 */
export async function settleDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

export interface Server {
  url: string;
  operatorKey: string;
  process: ChildProcess;
  stop: () => Promise<void>;
}

/**
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of a benchmarked process when it exits, named
 * after it (our server, the bare baseline) so the two can be compared.
 */
export function profileFlags(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
    : [];
}

/**
 * Starts the built server (`entry`: dist/src/main.js, or a wrapper that imports it) as a child
 * process and waits until it is ready.
 */
export async function startServer(
  databaseUrl: string,
  port: number,
  env: Record<string, string> = {},
  entry = 'dist/src/main.js',
): Promise<Server> {
  const operatorKey = 'bench-operator-' + randomBytes(16).toString('hex');
  const child = spawn(process.execPath, [...profileFlags('server'), entry], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      IDP_MASTER_KEY: randomBytes(32).toString('hex'),
      IDP_BOOTSTRAP_OPERATOR_KEY: operatorKey,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    operatorKey,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** What the bare baseline (baseline-provider.ts) serves: its issuer and one cc client per alg. */
export interface Baseline {
  issuer: string;
  clients: Array<{ id: string; secret: string; alg: string }>;
}

/** Starts the bare oidc-provider baseline as its own process; resolves once it listens. */
export async function startBaseline(port: number): Promise<Baseline & { process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [...profileFlags('bare'), 'dist/bench/baseline-provider.js'],
    {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', resolve),
  );
  return { ...(JSON.parse(line) as Baseline), process: child };
}

const USER_HZ = 100;

/** A /proc stat line: the command name, and the fields after it (0 = state, 11 = utime). */
function readStat(path: string): { comm: string; fields: string[] } {
  const stat = readFileSync(path, 'utf8');
  const close = stat.lastIndexOf(')');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, close),
    fields: stat.slice(close + 2).split(' '),
  };
}

/** CPU seconds (user + system) used so far by a process and its children, from /proc. */
export function cpuSeconds(pid: number): number {
  const { fields } = readStat(`/proc/${pid}/stat`);
  // fields[11..14] = utime, stime, cutime, cstime
  return (
    (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / USER_HZ
  );
}

/** CPU seconds used so far by every process whose command name is `comm` (e.g. postgres). */
export function cpuSecondsOf(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readStat(`/proc/${entry}/stat`);
      if (stat.comm === comm)
        total += (Number(stat.fields[11]) + Number(stat.fields[12])) / USER_HZ;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** CPU seconds used so far by this process (the load generator). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Times `n` sequential calls; answers median and p95 in milliseconds. */
export async function timeCalls(
  n: number,
  call: (i: number) => Promise<void>,
): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p95: percentile(times, 95) };
}

/**
 * Walks authorize → (login) → (consent) → callback like a browser, signing in with `login` and
 * `password` on the hosted page; answers the code, its PKCE verifier and how many requests it took.
 */
export async function authorizeCode(
  browser: Browser,
  o: {
    issuer: string;
    clientId: string;
    scope: string;
    redirectUri: string;
    login: string;
    password: string;
  },
): Promise<{ code: string; verifier: string; requests: number }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url =
    `${o.issuer}/authorize?` +
    new URLSearchParams({
      client_id: o.clientId,
      redirect_uri: o.redirectUri,
      response_type: 'code',
      scope: o.scope,
      state: randomBytes(8).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
  let res = await browser.get(url);
  let requests = 1;
  for (let hop = 0; hop < 12; hop++) {
    if (res.status === 200 && res.html.includes('name="password"')) {
      const f = findForm(res.html, '/login');
      res = await browser.post(new URL(f.action, res.url), {
        ...f.fields,
        login: o.login,
        password: o.password,
      });
      requests++;
      continue;
    }
    if (res.status === 200 && res.html.includes('/consent')) {
      const f = findForm(res.html, '/consent');
      res = await browser.post(new URL(f.action, res.url), f.fields);
      requests++;
      continue;
    }
    if (res.status !== 302 && res.status !== 303)
      throw new Error(`authorize: ${res.status} at ${res.url}`);
    if (res.location!.startsWith(o.redirectUri)) {
      const code = new URL(res.location!).searchParams.get('code');
      if (!code) throw new Error(`no code: ${res.location}`);
      return { code, verifier, requests };
    }
    res = await browser.get(res.location!);
    requests++;
  }
  throw new Error('too many hops');
}
