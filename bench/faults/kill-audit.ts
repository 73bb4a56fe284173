/**
 * kill -9 under write load, then: does every acknowledged change have its audit event?
 * Starts the built server (dist/src/main.js) as a child process on a scratch PostgreSQL
 * database, creates users from several concurrent clients (single creates, and users/batch in
 * another tenant), kills the process with SIGKILL at a random moment, and compares:
 * - acknowledged creates (201/200 answers) without an `admin.user.create` event: must be 0;
 * - committed users without an event (single and batch creates are audited in their commit): 0.
 *
 *   npm run build && node dist/bench/faults/kill-audit.js
 *
 * BENCH_TRIALS (default 10), BENCH_PG_URL as in redis-outage.ts; FAULTS_SERVER names another
 * build's entry point (to measure a version before this one). One JSON line per trial, then
 * a summary; exits 1 when an acknowledged change lacks its event.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './own-redis.js';
import { scratchDatabase } from './scratch-database.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
const CLIENTS = 6;

async function main() {
  const db = await scratchDatabase();
  const operatorKey = `faults-operator-${randomBytes(16).toString('hex')}`;
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-kill-')),
    IDP_MASTER_KEY: randomBytes(32).toString('hex'),
    IDP_BOOTSTRAP_OPERATOR_KEY: operatorKey,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    BCRYPT_COST: '4',
  };
  const sql = new pg.Client({ connectionString: db.url });
  let failed = false;
  const totals = { acknowledged: 0, ackedWithoutEvent: 0, committed: 0, committedWithoutEvent: 0 };
  try {
    for (let trial = 1; trial <= TRIALS; trial++) {
      const port = await freePort();
      const child = spawn(process.execPath, [process.env.FAULTS_SERVER ?? 'dist/src/main.js'], {
        env: { ...env, PORT: String(port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        const up = await fetch(`${base}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (i > 300) throw new Error('server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      const post = (path: string, body: unknown) =>
        fetch(`${base}/api/v1${path}`, {
          method: 'POST',
          headers: { 'x-api-key': operatorKey, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const single = `kill-${trial}-s`;
      const batch = `kill-${trial}-b`;
      for (const id of [single, batch]) await post('/tenants', { tenant_id: id, display_name: id });
      const acked: string[] = [];
      const state = { stop: false };
      const loop = async (c: number) => {
        for (let n = 0; !state.stop; n++) {
          try {
            if (c % 2 === 0) {
              const r = await post(`/tenants/${single}/users`, { username: `u${c}-${n}` });
              if (r.status === 201) acked.push(((await r.json()) as { user_id: string }).user_id);
            } else {
              const users = Array.from({ length: 5 }, (_, k) => ({ username: `b${c}-${n}-${k}` }));
              const r = await post(`/tenants/${batch}/users/batch`, { users });
              if (r.status === 200)
                acked.push(
                  ...((await r.json()) as { created_user_ids: string[] }).created_user_ids,
                );
            }
          } catch {
            return; // the process is gone
          }
        }
      };
      const loops = Array.from({ length: CLIENTS }, (_, c) => loop(c));
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      child.kill('SIGKILL');
      state.stop = true;
      await exited;
      await Promise.all(loops);

      if (trial === 1) await sql.connect();
      const events = await sql.query(
        `SELECT subject_id FROM audit_events WHERE tenant_id = ANY($1) AND type = 'admin.user.create'`,
        [[single, batch]],
      );
      const audited = new Set(events.rows.map((r) => r.subject_id as string));
      const ackedWithoutEvent = acked.filter((id) => !audited.has(id)).length;
      const count = async (q: string) => Number((await sql.query(q, [[single, batch]])).rows[0].n);
      const committed = await count('SELECT count(*) AS n FROM users WHERE tenant_id = ANY($1)');
      const committedWithoutEvent = await count(
        `SELECT count(*) AS n FROM users u WHERE u.tenant_id = ANY($1) AND NOT EXISTS (
           SELECT 1 FROM audit_events e WHERE e.tenant_id = u.tenant_id
              AND e.type = 'admin.user.create' AND e.subject_id = u.user_id::text)`,
      );
      const line = {
        trial,
        acknowledged: acked.length,
        acked_without_event: ackedWithoutEvent,
        committed,
        committed_without_event: committedWithoutEvent,
      };
      console.log(JSON.stringify(line));
      totals.acknowledged += acked.length;
      totals.ackedWithoutEvent += ackedWithoutEvent;
      totals.committed += committed;
      totals.committedWithoutEvent += committedWithoutEvent;
      if (ackedWithoutEvent > 0 || committedWithoutEvent > 0) failed = true;
    }
  } finally {
    await sql.end().catch(() => {});
    await db.drop();
  }
  console.log(JSON.stringify({ trials: TRIALS, ...totals }));
  process.exit(failed ? 1 : 0);
}

await main();
