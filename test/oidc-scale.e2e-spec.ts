import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from '../libs/testing/index.js';
import { OidcProviders } from '../src/oidc/oidc-providers.service.js';

const TENANTS = 1000;
const CACHE_SIZE = 25;
const API_TENANTS = 200;
/** Bulk tenants loaded as well: key generation on first use makes each one slow to load. */
const BULK_LOADED = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += width) {
    await Promise.all(items.slice(i, i + width).map(fn));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Many tenants on one process: providers are built on demand and the cache, not the number of
 * tenants, bounds memory. Figures are printed for the decision note.
 */
describe('OIDC at 1,000 tenants', () => {
  let t: TestApp;
  const ids = Array.from(
    { length: TENANTS },
    (_, i) => `scale-${process.pid}-${Date.now().toString(36)}-${i}`,
  );

  beforeAll(async () => {
    t = await startTestApp({ env: { PROVIDER_CACHE_SIZE: String(CACHE_SIZE) } });
  });
  afterAll(() => t.close());

  it('answers discovery for a not-yet-loaded tenant fast, with memory bounded by the cache', async () => {
    // 200 tenants through the API (signing keys made at creation: RSA key generation is most of
    // the cost), the other 800 inserted in one statement; their keys are made on first use.
    const created = Date.now();
    const viaApi = ids.slice(0, API_TENANTS);
    await inBatches(viaApi, 16, async (tenantId) => {
      const r = await t.http('POST', '/api/v1/tenants', {
        body: { tenant_id: tenantId, display_name: tenantId },
      });
      if (r.status !== 201) throw new Error(`${r.status} ${r.text}`);
    });
    const bulk = ids.slice(API_TENANTS);
    await t.app
      .get(DataSource)
      .query(
        `INSERT INTO tenants (tenant_id, display_name, settings) SELECT id, id, '{}'::jsonb FROM unnest($1::text[]) AS id`,
        [bulk],
      );
    const createMs = Date.now() - created;

    const providers = t.app.get(OidcProviders);
    const discovery = (tenantId: string) =>
      fetch(`${t.baseUrl}/${tenantId}/.well-known/openid-configuration`).then(async (r) => {
        if (r.status !== 200) throw new Error(`${tenantId}: ${r.status}`);
        await r.arrayBuffer();
      });

    // Warm the process (first provider build loads modules), then fill the cache.
    const warm = ids.slice(0, 50);
    for (const id of warm) await discovery(id);
    const heapAfterCacheFull = heapMb();
    expect(providers.size).toBeLessThanOrEqual(CACHE_SIZE);

    // Cold tenants: never loaded before, one at a time, timed from the client.
    const cold = ids.slice(50, API_TENANTS);
    const latencies: number[] = [];
    for (const id of cold) {
      const start = performance.now();
      await discovery(id);
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);

    // Hundreds more (bulk tenants make their keys now): the resident set stays the cache size.
    const rest = Date.now();
    const more = ids.slice(API_TENANTS, API_TENANTS + BULK_LOADED);
    await inBatches(more, 8, discovery);
    const loaded = API_TENANTS + more.length;
    const restMs = Date.now() - rest;
    const heapAfterAll = heapMb();
    expect(providers.size).toBeLessThanOrEqual(CACHE_SIZE);

    // A resident tenant, for comparison.
    const hot = more[more.length - 1];
    const hotStart = performance.now();
    for (let i = 0; i < 50; i++) await discovery(hot);
    const hotMs = (performance.now() - hotStart) / 50;

    console.log(
      [
        `OIDC scale: ${TENANTS} tenants created in ${(createMs / 1000).toFixed(1)} s (${API_TENANTS} through the API, 16 at a time; ${TENANTS - API_TENANTS} in one INSERT)`,
        `discovery, not-yet-loaded tenant (n=${cold.length}): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
        `discovery, resident tenant: ${hotMs.toFixed(2)} ms; ${more.length} bulk tenants loaded in ${(restMs / 1000).toFixed(1)} s (first use makes their signing keys)`,
        `PROVIDER_CACHE_SIZE=${CACHE_SIZE}: resident providers ${providers.size}; heap after ${warm.length} tenants loaded ${heapAfterCacheFull.toFixed(1)} MB, after ${loaded} ${heapAfterAll.toFixed(1)} MB (growth ${(heapAfterAll - heapAfterCacheFull).toFixed(1)} MB)`,
      ].join('\n'),
    );
    // The median is the figure; p95 on this shared 2-core machine swings with its load.
    expect(p50).toBeLessThan(50);
    expect(p95).toBeLessThan(100);
    // 450 more tenants loaded and evicted: growth far below what 450 resident providers would cost (~100 MB).
    expect(heapAfterAll - heapAfterCacheFull).toBeLessThan(25);
  }, 180_000);
});
