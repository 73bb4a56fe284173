/**
 * Directory at scale: a tenant with 1,000,000 users on PostgreSQL; median and p95 over HTTP of
 * the first list page, a filtered list and a by-username lookup, plus the plans PostgreSQL picks.
 * Run: npm run bench:directory   (USERS=200000 for a quicker run)
 */
import pg from 'pg';
import { freshDatabase, startServer, timeCalls } from './lib.js';

const USERS = Number(process.env.USERS ?? 1_000_000);
const dbUrl = await freshDatabase('idp_bench_directory');
const server = await startServer(dbUrl, 39101);
const tenant = 'bench-dir';
const api = (path: string, init: RequestInit = {}) =>
  fetch(server.url + path, {
    ...init,
    headers: {
      'x-api-key': server.operatorKey,
      'content-type': 'application/json',
      ...init.headers,
    },
  });

try {
  const created = await api('/api/v1/tenants', {
    method: 'POST',
    body: JSON.stringify({ tenant_id: tenant, display_name: 'Bench' }),
  });
  if (!created.ok) throw new Error(`tenant create: ${created.status} ${await created.text()}`);

  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const seedStart = performance.now();
  // Seeded in SQL: the API path is measured elsewhere (batch/SCIM benchmarks); here we need volume.
  for (let from = 0; from < USERS; from += 250_000) {
    const to = Math.min(USERS, from + 250_000) - 1;
    await db.query(
      `INSERT INTO users (user_id, tenant_id, username, email, display_name, created_at, updated_at)
       SELECT gen_random_uuid(), $1, 'user' || lpad(i::text, 7, '0'), 'user' || lpad(i::text, 7, '0') || '@example.com',
              'User ' || i, now() - (($2 - i) || ' seconds')::interval, now()
       FROM generate_series($3::int, $4::int) AS i`,
      [tenant, USERS, from, to],
    );
  }
  await db.query('ANALYZE users');
  console.log(`seeded ${USERS} users in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const probe = (i: number) => `user${String((i * 7919) % USERS).padStart(7, '0')}`;
  const get = async (path: string) => {
    const r = await api(path);
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    await r.arrayBuffer();
  };
  // warm-up
  for (let i = 0; i < 50; i++) await get(`/api/v1/tenants/${tenant}/users?limit=10`);

  const results = {
    'list first page (limit 10)': await timeCalls(200, () =>
      get(`/api/v1/tenants/${tenant}/users?limit=10`),
    ),
    'list sorted by username desc': await timeCalls(200, () =>
      get(`/api/v1/tenants/${tenant}/users?limit=10&sort_by=username&sort_direction=-1`),
    ),
    'filtered list (username prefix)': await timeCalls(200, (i) =>
      get(`/api/v1/tenants/${tenant}/users?username=${probe(i).slice(0, 10)}`),
    ),
    'filtered list (email prefix)': await timeCalls(200, (i) =>
      get(`/api/v1/tenants/${tenant}/users?email=${probe(i).slice(0, 10)}`),
    ),
    'by-username lookup': await timeCalls(200, (i) =>
      get(`/api/v1/tenants/${tenant}/users/by-username/${encodeURIComponent(probe(i))}`),
    ),
  };
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(34)} median ${r.median.toFixed(2)} ms   p95 ${r.p95.toFixed(2)} ms`);
  }

  const plans: Record<string, string> = {
    'first page': `SELECT * FROM users u WHERE u.tenant_id = $1 ORDER BY u.created_at ASC, u.user_id ASC LIMIT 10`,
    'username prefix': `SELECT * FROM users u WHERE u.tenant_id = $1 AND lower(u.username) COLLATE "C" LIKE 'user00012%' ORDER BY u.created_at, u.user_id LIMIT 10`,
    'by username': `SELECT * FROM users u WHERE u.tenant_id = $1 AND lower(u.username) COLLATE "C" = 'user0001234'`,
  };
  for (const [name, sql] of Object.entries(plans)) {
    const rows = await db.query(`EXPLAIN ${sql}`, [tenant]);
    console.log(`plan ${name}: ${rows.rows.map((r) => r['QUERY PLAN'].trim()).join(' | ')}`);
  }
  await db.end();
} finally {
  await server.stop();
}
