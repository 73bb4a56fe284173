/**
 * Many tenants on one server process: discovery latency for a tenant whose provider is not
 * resident yet, for a resident one, and the server's resident memory as hundreds of tenants are
 * loaded and evicted through a small provider cache. The e2e suite only checks the structural
 * facts (bounded cache, evicted providers released); the figures are measured here.
 * Run: npm run bench:tenant-scale   (TENANTS=1000 CACHE_SIZE=25 API_TENANTS=200 LOADED=500)
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freshDatabase, percentile, startServer, timeCalls } from './lib.js';

const TENANTS = Number(process.env.TENANTS ?? 1000);
const CACHE_SIZE = Number(process.env.CACHE_SIZE ?? 25);
const API_TENANTS = Number(process.env.API_TENANTS ?? 200);
const LOADED = Number(process.env.LOADED ?? 500);

const dbUrl = await freshDatabase('idp_bench_tenant_scale');
const server = await startServer(dbUrl, 39104, { PROVIDER_CACHE_SIZE: String(CACHE_SIZE) });
const pid = server.process.pid!;
const ids = Array.from({ length: TENANTS }, (_, i) => `scale-${i}`);

function rssMb(): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : NaN;
}

async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width) {
    await Promise.all(items.slice(i, i + width).map(fn));
  }
}

const discovery = async (tenantId: string) => {
  const r = await fetch(`${server.url}/${tenantId}/.well-known/openid-configuration`);
  if (r.status !== 200) throw new Error(`${tenantId}: ${r.status}`);
  await r.arrayBuffer();
};

try {
  const created = performance.now();
  await inBatches(ids.slice(0, API_TENANTS), 16, async (tenantId) => {
    const r = await fetch(`${server.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantId, display_name: tenantId }),
    });
    if (r.status !== 201) throw new Error(`${r.status} ${await r.text()}`);
  });
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  await db.query(
    `INSERT INTO tenants (tenant_id, display_name, settings) SELECT id, id, '{}'::jsonb FROM unnest($1::text[]) AS id`,
    [ids.slice(API_TENANTS)],
  );
  await db.end();
  const createS = (performance.now() - created) / 1000;

  const warm = ids.slice(0, 50);
  for (const id of warm) await discovery(id);
  const rssWarm = rssMb();

  const cold: number[] = [];
  for (const id of ids.slice(50, API_TENANTS)) {
    const start = performance.now();
    await discovery(id);
    cold.push(performance.now() - start);
  }
  cold.sort((a, b) => a - b);

  const more = ids.slice(API_TENANTS, API_TENANTS + LOADED);
  const loadStart = performance.now();
  await inBatches(more, 8, discovery);
  const loadS = (performance.now() - loadStart) / 1000;
  const rssAll = rssMb();
  const hot = await timeCalls(200, () => discovery(more[more.length - 1]));

  console.log(
    [
      `tenant scale: ${TENANTS} tenants (${API_TENANTS} through the API, the rest in one INSERT) in ${createS.toFixed(1)} s; PROVIDER_CACHE_SIZE=${CACHE_SIZE}`,
      `discovery, not-yet-resident tenant (n=${cold.length}): p50 ${percentile(cold, 50).toFixed(1)} ms, p95 ${percentile(cold, 95).toFixed(1)} ms, max ${cold[cold.length - 1].toFixed(1)} ms`,
      `discovery, resident tenant: p50 ${hot.median.toFixed(2)} ms, p95 ${hot.p95.toFixed(2)} ms`,
      `${more.length} bulk tenants loaded (keys made on first use) in ${loadS.toFixed(1)} s`,
      `server RSS after ${warm.length} tenants ${rssWarm.toFixed(0)} MB, after ${API_TENANTS + more.length} ${rssAll.toFixed(0)} MB (growth ${(rssAll - rssWarm).toFixed(0)} MB)`,
    ].join('\n'),
  );
} finally {
  await server.stop();
}
