import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A scratch database on BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * dropped by `drop()`.
 */
export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `idp_faults_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
