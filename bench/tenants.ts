/**
 * Tenancy at scale (issue 23): what a tenant costs to create, to keep and to visit, measured as
 * server CPU-seconds (user + system of the server process, /proc/<pid>/stat), so other work on
 * the machine does not bend the figures as much as wall time would.
 *
 * Run A (the scale run, PROVIDER_CACHE_SIZE as configured):
 *  1. hot path at 10 tenants: discovery and a client_credentials token on one resident tenant;
 *  2. TENANTS tenants created through the API, each with one EdDSA client_credentials client
 *     (8 concurrent callers): server CPU per tenant and per client, tenants per second;
 *  3. sweeps: every tenant visited once per sweep (discovery, JWKS, token), 8 concurrent callers:
 *     server CPU per visit, p99 of a visit's first request, RSS after each sweep;
 *  4. the hot path again, now at TENANTS tenants;
 *  5. half the tenants deleted through the API: resident providers and RSS after;
 *  6. DEFINED tenants defined in bulk (one INSERT), USED of them visited: RSS before and after.
 * Run B (residency, PROVIDER_CACHE_SIZE=RESIDENT_CACHE on the same database): rounds over a
 *  resident set, a set whose providers are evicted between visits (documents kept) and a set of
 *  whose provider and documents are both evicted (key, settings and client data caches are larger): server CPU per visit of each, p99 of the first request of each.
 *
 * Run: npm run bench:tenants
 *   TENANTS=800 SWEEPS=2 DEFINED=100000 USED=200 ROUNDS=3 RESIDENT_CACHE=50 PASSES=4 (defaults)
 *   CACHE_SIZE=<n> sets PROVIDER_CACHE_SIZE for run A (server default otherwise).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { cpuSeconds, freshDatabase, percentile, startServer, type Server } from './lib.js';

const TENANTS = Number(process.env.TENANTS ?? 800);
const SWEEPS = Number(process.env.SWEEPS ?? 2);
const DEFINED = Number(process.env.DEFINED ?? 100_000);
const USED = Number(process.env.USED ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const RESIDENT_CACHE = Number(process.env.RESIDENT_CACHE ?? 50);
const CONCURRENCY = 8;
/** Passes over the resident set per round (it is small: CPU ticks are 10 ms). */
const PASSES = Number(process.env.PASSES ?? 4);
const FORM = 'application/x-www-form-urlencoded';

interface Tenant {
  id: string;
  clientId: string;
  secret: string;
}

const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : NaN;
};

/** Runs fn over items with `width` callers, each taking the next item when it is done. */
async function pool<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Waits until the server has been idle for a moment (background work such as key refills). */
async function settle(pid: number) {
  let last = cpuSeconds(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = cpuSeconds(pid);
    if (now - last < 0.02) return;
    last = now;
  }
}

/** Server CPU-seconds used by `fn` and the background work it left (settled). */
async function serverCpu(
  pid: number,
  fn: () => Promise<void>,
): Promise<{ cpu: number; s: number }> {
  await settle(pid);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  await settle(pid);
  return { cpu: cpuSeconds(pid) - cpu0, s };
}

async function get(url: string) {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

function client(server: Server) {
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        'x-api-key': server.operatorKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const token = async (t: Tenant) => {
    const r = await fetch(`${server.url}/${t.id}/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${t.clientId}:${t.secret}`).toString('base64'),
        'content-type': FORM,
      },
      body: 'grant_type=client_credentials',
    });
    if (r.status !== 200) throw new Error(`${t.id} token: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  };
  /** One visit: discovery, JWKS, token; answers the first request's and the whole visit's ms. */
  const visit = async (t: Tenant) => {
    const t0 = performance.now();
    await get(`${server.url}/${t.id}/.well-known/openid-configuration`);
    const first = performance.now() - t0;
    await get(`${server.url}/${t.id}/jwks`);
    await token(t);
    return { first, whole: performance.now() - t0 };
  };
  return { api, get, token, visit };
}

async function createTenant(api: ReturnType<typeof client>['api'], id: string): Promise<void> {
  await api('POST', '/api/v1/tenants', { tenant_id: id, display_name: id });
}

async function createClient(api: ReturnType<typeof client>['api'], id: string): Promise<Tenant> {
  const c = await api('POST', `/api/v1/tenants/${id}/clients`, {
    name: 'svc',
    client_type: 'confidential',
    grant_types: ['client_credentials'],
    id_token_signed_response_alg: 'EdDSA',
  });
  return { id, clientId: String(c.client_id), secret: String(c.client_secret) };
}

interface SweepResult {
  cpuMsPerVisit: number;
  firstP50: number;
  firstP99: number;
  visitP99: number;
  s: number;
}

async function sweep(
  server: Server,
  tenants: Tenant[],
  visit: ReturnType<typeof client>['visit'],
): Promise<SweepResult> {
  const first: number[] = [];
  const whole: number[] = [];
  const { cpu, s } = await serverCpu(server.process.pid!, () =>
    pool(tenants, CONCURRENCY, async (t) => {
      const v = await visit(t);
      first.push(v.first);
      whole.push(v.whole);
    }),
  );
  first.sort((a, b) => a - b);
  whole.sort((a, b) => a - b);
  return {
    cpuMsPerVisit: (cpu * 1000) / tenants.length,
    firstP50: percentile(first, 50),
    firstP99: percentile(first, 99),
    visitP99: percentile(whole, 99),
    s,
  };
}

/** Server CPU per request of `n` requests from 8 callers (the hot path on one tenant). */
async function hotPath(server: Server, n: number, call: () => Promise<void>): Promise<number> {
  await pool(Array.from({ length: 1000 }), CONCURRENCY, call);
  const { cpu } = await serverCpu(server.process.pid!, () =>
    pool(Array.from({ length: n }), CONCURRENCY, call),
  );
  return (cpu * 1e6) / n;
}

async function metric(server: Server, name: string): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('; ');
}

const fmt = (r: SweepResult) =>
  `${r.cpuMsPerVisit.toFixed(2)} ms CPU/visit, first request p50 ${r.firstP50.toFixed(1)} ms p99 ${r.firstP99.toFixed(1)} ms, visit p99 ${r.visitP99.toFixed(1)} ms, ${r.s.toFixed(1)} s`;

const started = performance.now();
const dbUrl = await freshDatabase('idp_bench_tenants');
// Both runs open the same sealed keys.
const masterKey = { IDP_MASTER_KEY: randomBytes(32).toString('hex') };
const envA: Record<string, string> = process.env.CACHE_SIZE
  ? { ...masterKey, PROVIDER_CACHE_SIZE: process.env.CACHE_SIZE }
  : masterKey;
const ids = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(6, '0')}`);
let tenants: Tenant[] = [];
const out: string[] = [];
const log = (line: string) => {
  out.push(line);
  console.log(line);
};

let server = await startServer(dbUrl, 39123, envA);
try {
  const pid = server.process.pid!;
  const c = client(server);
  log(
    `run A: ${TENANTS} tenants, PROVIDER_CACHE_SIZE=${process.env.CACHE_SIZE ?? 'default'}, ${CONCURRENCY} callers; RSS at start ${rssMb(pid).toFixed(0)} MB`,
  );

  // 1. the hot path at 10 tenants
  const first10: Tenant[] = [];
  for (const id of ids.slice(0, 10)) {
    await createTenant(c.api, id);
    first10.push(await createClient(c.api, id));
  }
  for (const t of first10) await c.visit(t);
  const hot = first10[0];
  const disc10 = await hotPath(server, 2000, () =>
    c.get(`${server.url}/${hot.id}/.well-known/openid-configuration`),
  );
  const tok10 = await hotPath(server, 1000, () => c.token(hot));

  // 2. creation through the API
  const rest = ids.slice(10);
  const made = await serverCpu(pid, () => pool(rest, CONCURRENCY, (id) => createTenant(c.api, id)));
  log(
    `create tenant: ${((made.cpu * 1000) / rest.length).toFixed(1)} ms server CPU each, ${(rest.length / made.s).toFixed(0)} tenants/s (n=${rest.length}, includes the background work left after them)`,
  );
  const restClients: Tenant[] = [];
  const madeClients = await serverCpu(pid, () =>
    pool(rest, CONCURRENCY, async (id) => void restClients.push(await createClient(c.api, id))),
  );
  log(
    `create client: ${((madeClients.cpu * 1000) / rest.length).toFixed(1)} ms server CPU each, ${(rest.length / madeClients.s).toFixed(0)} clients/s`,
  );
  tenants = [...first10, ...restClients].toSorted((a, b) => a.id.localeCompare(b.id));

  // 3. sweeps
  for (let i = 1; i <= SWEEPS; i++) {
    const r = await sweep(server, tenants, c.visit);
    log(`sweep ${i} over ${tenants.length}: ${fmt(r)}; RSS ${rssMb(pid).toFixed(0)} MB`);
  }
  log(`  ${await metric(server, 'idp_provider_cache_total')}`);
  log(
    `  ${await metric(server, 'nodejs_heap_size_used_bytes')}; ${await metric(server, 'idp_tenant_resident')}`,
  );

  // 4. the hot path at TENANTS tenants
  const discN = await hotPath(server, 2000, () =>
    c.get(`${server.url}/${hot.id}/.well-known/openid-configuration`),
  );
  const tokN = await hotPath(server, 1000, () => c.token(hot));
  log(
    `hot path on one tenant, at 10 / ${TENANTS} tenants: discovery ${disc10.toFixed(0)} / ${discN.toFixed(0)} µs CPU, EdDSA token ${tok10.toFixed(0)} / ${tokN.toFixed(0)} µs CPU`,
  );

  // 5. delete half
  const doomed = tenants.filter((_, i) => i % 2 === 1);
  const rssBefore = rssMb(pid);
  const del = await serverCpu(pid, () =>
    pool(doomed, CONCURRENCY, (t) => c.api('DELETE', `/api/v1/tenants/${t.id}`).then(() => {})),
  );
  await new Promise((r) => setTimeout(r, 2000));
  log(
    `deleted ${doomed.length}: ${((del.cpu * 1000) / doomed.length).toFixed(1)} ms CPU each; RSS ${rssBefore.toFixed(0)} -> ${rssMb(pid).toFixed(0)} MB; ${await metric(server, 'idp_tenant_resident')}`,
  );
  tenants = tenants.filter((_, i) => i % 2 === 0);

  // 6. many defined, few used
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const definedIds = Array.from({ length: DEFINED }, (_, i) => `d${String(i).padStart(6, '0')}`);
  const rss0 = rssMb(pid);
  await db.query(
    `INSERT INTO tenants (tenant_id, display_name, settings) SELECT id, id, '{}'::jsonb FROM unnest($1::text[]) AS id`,
    [definedIds],
  );
  await db.end();
  await new Promise((r) => setTimeout(r, 1000));
  const rss1 = rssMb(pid);
  const used = definedIds.filter((_, i) => i % Math.max(1, Math.floor(DEFINED / USED)) === 0);
  const usedRun = await serverCpu(pid, () =>
    pool(used, CONCURRENCY, (id) => c.get(`${server.url}/${id}/.well-known/openid-configuration`)),
  );
  const rss2 = rssMb(pid);
  log(
    `${DEFINED} tenants defined in bulk: RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB; ${used.length} of them visited once (discovery, keys made then): ${((usedRun.cpu * 1000) / used.length).toFixed(1)} ms CPU each, RSS ${rss2.toFixed(0)} MB; ${await metric(server, 'idp_tenant_resident')}`,
  );
} finally {
  await server.stop();
}

// Run B: residency on the same database, with a small cache. Three sets: one that stays
// resident, one larger than the provider cache but within the documents' bound (its provider is
// rebuilt on every visit, its discovery and JWKS are replayed), and one larger than both (neither
// of it stays). Each round measures them in turn; the cold sets are visited in order, so with an
// LRU every visit misses.
server = await startServer(dbUrl, 39124, {
  ...masterKey,
  PROVIDER_CACHE_SIZE: String(RESIDENT_CACHE),
});
try {
  const c = client(server);
  const residentSet = tenants.slice(0, Math.floor(RESIDENT_CACHE / 2));
  const evicted = tenants.slice(residentSet.length, residentSet.length + RESIDENT_CACHE * 2);
  const gone = tenants.slice(residentSet.length + evicted.length);
  if (evicted.length <= RESIDENT_CACHE) throw new Error('TENANTS too small for run B');
  log(
    `run B: PROVIDER_CACHE_SIZE=${RESIDENT_CACHE}, resident set ${residentSet.length}, provider-evicted set ${evicted.length}, provider-and-documents-evicted set ${gone.length}`,
  );
  for (const t of [...gone, ...evicted, ...residentSet]) await c.visit(t);
  const rounds: Array<{ res: SweepResult; evicted: SweepResult; gone?: SweepResult }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Beyond four times the cache, neither its providers nor its documents stay between visits.
    const goneRun =
      gone.length > RESIDENT_CACHE * 4 ? await sweep(server, gone, c.visit) : undefined;
    await sweep(server, evicted, c.visit);
    const evictedRun = await sweep(server, evicted, c.visit);
    await sweep(server, residentSet, c.visit);
    const passes = Array.from({ length: PASSES }, () => residentSet).flat();
    rounds.push({ res: await sweep(server, passes, c.visit), evicted: evictedRun, gone: goneRun });
  }
  for (const [i, r] of rounds.entries()) {
    log(`  round ${i + 1}: resident (${PASSES} passes) ${fmt(r.res)}`);
    log(`  round ${i + 1}: provider evicted ${fmt(r.evicted)}`);
    if (r.gone) log(`  round ${i + 1}: provider and documents evicted ${fmt(r.gone)}`);
  }
  const ratio = (pick: (r: (typeof rounds)[number]) => SweepResult | undefined) => {
    const list = rounds
      .filter((r) => pick(r))
      .map((r) => pick(r)!.cpuMsPerVisit / r.res.cpuMsPerVisit)
      .toSorted((a, b) => a - b);
    return list.length
      ? `median ${list[Math.floor(list.length / 2)].toFixed(2)} (rounds ${list.map((x) => x.toFixed(2)).join(', ')})`
      : 'not measured (too few tenants)';
  };
  log(`provider evicted / resident CPU per visit: ${ratio((r) => r.evicted)}`);
  log(`provider and documents evicted / resident CPU per visit: ${ratio((r) => r.gone)}`);
  log(`  ${await metric(server, 'idp_provider_cache_total')}`);
} finally {
  await server.stop();
}
log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
