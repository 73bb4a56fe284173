/**
 * Login analytics over a year of data: seeds 1,000,000 sign-in events for one tenant on
 * PostgreSQL, builds the rollups, and times GET /api/v1/tenants/{t}/analytics/logins end to end
 * over HTTP (median of several runs after a warm-up).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/analytics.js
 *
 * BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server; a
 * scratch database is created and dropped (kept with BENCH_KEEP_DB=1). BENCH_EVENTS overrides
 * the event count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AnalyticsService } from '../src/analytics/analytics.service.js';
import type { LoginAnalyticsQuery } from '../src/analytics/dto/analytics.dto.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { seedLoginEvents } from './seed-audit.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = 21;
const BUDGET_MS = 200;

async function main() {
  const admin = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `idp_bench_${Date.now()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${dbName}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${dbName}`;

  const operatorKey = `bench-operator-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: url.toString(),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-bench-')),
    IDP_MASTER_KEY: randomBytes(32).toString('hex'),
    IDP_BOOTSTRAP_OPERATOR_KEY: operatorKey,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'bench',
    BCRYPT_COST: '4',
  });
  const { app } = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const headers = { 'x-api-key': operatorKey, 'content-type': 'application/json' };

  try {
    const tenantId = 'bench';
    const created = await fetch(`${base}/api/v1/tenants`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tenant_id: tenantId, display_name: 'Bench' }),
    });
    if (created.status !== 201) throw new Error(`tenant create: ${created.status}`);

    const db = app.get(DataSource);
    const from = new Date(Date.UTC(2025, 0, 1));
    let t0 = performance.now();
    await seedLoginEvents(db, { tenantId, events: EVENTS, from, days: 365, users: 20_000 });
    console.log(
      `seeded ${EVENTS.toLocaleString('en')} events over 365 days in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    t0 = performance.now();
    await app.get(AnalyticsService).rebuild(tenantId);
    await db.query('ANALYZE');
    const [rollups] = await db.query(
      `SELECT count(*)::int AS n FROM login_rollups WHERE tenant_id = $1`,
      [tenantId],
    );
    console.log(
      `rollups rebuilt in ${((performance.now() - t0) / 1000).toFixed(1)} s (${rollups.n} rollup rows)`,
    );

    const cases = [
      ['year by day', 'start=2025-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&resolution=day'],
      ['year by hour', 'start=2025-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&resolution=hour'],
      ['week by minute', 'start=2025-06-01T00:00:00Z&end=2025-06-07T00:00:00Z&resolution=minute'],
    ] as const;
    let worst = 0;
    for (const [label, query] of cases) {
      const times: number[] = [];
      let body: { totals?: { successes: number; failures: number }; buckets?: unknown[] } = {};
      for (let i = 0; i <= RUNS; i++) {
        const start = performance.now();
        const r = await fetch(`${base}/api/v1/tenants/${tenantId}/analytics/logins?${query}`, {
          headers,
        });
        body = (await r.json()) as typeof body;
        if (r.status !== 200) throw new Error(`${label}: ${r.status} ${JSON.stringify(body)}`);
        if (i > 0) times.push(performance.now() - start); // the first run warms caches
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)];
      // The same query without HTTP and JSON: what the service itself costs.
      const service = app.get(AnalyticsService);
      const params = Object.fromEntries(
        new URLSearchParams(query),
      ) as unknown as LoginAnalyticsQuery;
      const inProcess: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        await service.logins(tenantId, params);
        inProcess.push(performance.now() - start);
      }
      inProcess.sort((a, b) => a - b);
      if (label === 'year by day') worst = median;
      const totals = body.totals ? body.totals.successes + body.totals.failures : 0;
      console.log(
        `${label.padEnd(15)} median ${median.toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}) ` +
          `over ${RUNS} runs; service alone ${inProcess[Math.floor(RUNS / 2)].toFixed(1)} ms; ` +
          `${body.buckets?.length} buckets, ${totals.toLocaleString('en')} events counted`,
      );
    }
    console.log(`year by day: ${worst < BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget`);
  } finally {
    await app.close();
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    if (process.env.BENCH_KEEP_DB) console.log(`kept database ${dbName}`);
    else await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
