/**
 * SCIM provisioning throughput on PostgreSQL: 10,000 users created one POST at a time (with
 * some concurrency, as Okta and Entra provision) and 10,000 more through Bulk requests.
 * Reports users/s and latency percentiles for both.
 * Run: npm run build && node dist/bench/scim.js
 *      (USERS=10000 CONCURRENCY=16 BULK_SIZE=1000 BULK_CONCURRENCY=1 to change the shape)
 */
import { freshDatabase, percentile, startServer } from './lib.js';

const USERS = Number(process.env.USERS ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const BULK_SIZE = Number(process.env.BULK_SIZE ?? 1000);
const BULK_CONCURRENCY = Number(process.env.BULK_CONCURRENCY ?? 1);
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const dbUrl = await freshDatabase('idp_bench_scim');
const server = await startServer(dbUrl, 39102);
const tenant = 'bench-scim';

/** An Entra-shaped create: names, a work email, an external id, enterprise attributes. */
function user(prefix: string, i: number) {
  const name = `${prefix}${String(i).padStart(6, '0')}`;
  return {
    schemas: [USER, ENTERPRISE],
    userName: `${name}@contoso.example`,
    externalId: `ext-${name}`,
    active: true,
    displayName: `User ${name}`,
    name: { givenName: 'User', familyName: name, formatted: `User ${name}` },
    emails: [{ value: `${name}@contoso.example`, type: 'work', primary: true }],
    phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
    title: 'Engineer',
    roles: [],
    [ENTERPRISE]: { employeeNumber: String(i), department: 'R&D' },
  };
}

/** Runs `total` tasks with at most `concurrency` in flight; answers each task's latency in ms. */
async function pool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<number[]> {
  const times: number[] = Array.from({ length: total }, () => 0);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const start = performance.now();
        await task(i);
        times[i] = performance.now() - start;
      }
    }),
  );
  return times.toSorted((a, b) => a - b);
}

const ms = (v: number) => v.toFixed(1);

function report(label: string, users: number, seconds: number, times: number[], unit: string) {
  console.log(
    `${label}: ${users} users in ${seconds.toFixed(2)} s = ${(users / seconds).toFixed(0)} users/s; ` +
      `${unit} latency p50 ${ms(percentile(times, 50))} ms, p95 ${ms(percentile(times, 95))} ms, p99 ${ms(percentile(times, 99))} ms`,
  );
}

try {
  const admin = (path: string, body: unknown) =>
    fetch(server.url + path, {
      method: 'POST',
      headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const created = await admin('/api/v1/tenants', { tenant_id: tenant, display_name: 'Bench' });
  if (!created.ok) throw new Error(`tenant create: ${created.status} ${await created.text()}`);
  const keyRes = await admin(`/api/v1/tenants/${tenant}/api-keys`, {
    name: 'scim',
    scopes: ['scim'],
  });
  const key = ((await keyRes.json()) as { api_key: string }).api_key;
  const scim = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/${tenant}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  // warm-up (connections, JIT), not counted
  await pool(200, CONCURRENCY, async (i) => {
    const r = await scim('POST', '/Users', user('warm', i));
    if (r.status !== 201) throw new Error(`warm-up create: ${r.status} ${await r.text()}`);
  });

  let start = performance.now();
  const single = await pool(USERS, CONCURRENCY, async (i) => {
    const r = await scim('POST', '/Users', user('single', i));
    if (r.status !== 201) throw new Error(`create: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  });
  report(
    `single POST /Users (concurrency ${CONCURRENCY})`,
    USERS,
    (performance.now() - start) / 1000,
    single,
    'request',
  );

  const batches = Math.ceil(USERS / BULK_SIZE);
  start = performance.now();
  const bulk = await pool(batches, BULK_CONCURRENCY, async (b) => {
    const Operations = [];
    for (let i = b * BULK_SIZE; i < Math.min(USERS, (b + 1) * BULK_SIZE); i++) {
      Operations.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: user('bulk', i) });
    }
    const r = await scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations,
    });
    const body = (await r.json()) as { Operations: Array<{ status: string }> };
    const failed = body.Operations?.filter((o) => o.status !== '201').length ?? -1;
    if (r.status !== 200 || failed !== 0) throw new Error(`bulk: ${r.status}, ${failed} failed`);
  });
  report(
    `Bulk (${BULK_SIZE} creates per request, ${BULK_CONCURRENCY} in flight)`,
    USERS,
    (performance.now() - start) / 1000,
    bulk,
    'request',
  );

  // The lookups every sync cycle makes, on the now 20,000-user tenant.
  const lookups = await pool(1000, CONCURRENCY, async (i) => {
    const name = `single${String((i * 7919) % USERS).padStart(6, '0')}@contoso.example`;
    const r = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`);
    const body = (await r.json()) as { totalResults: number };
    if (body.totalResults !== 1) throw new Error(`lookup ${name}: ${body.totalResults}`);
  });
  console.log(
    `lookup userName eq (concurrency ${CONCURRENCY}): p50 ${percentile(lookups, 50).toFixed(1)} ms, p95 ${percentile(lookups, 95).toFixed(1)} ms`,
  );
} finally {
  await server.stop();
}
