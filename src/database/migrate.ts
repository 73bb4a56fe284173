import { DataSource } from 'typeorm';
import { crossTenant } from '../../libs/tenancy/index.js';
import type { AppConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source.js';

/** Applies pending migrations in one transaction; safe to run on every start and from a Job. */
export async function runMigrations(dataSource: DataSource, shared: boolean): Promise<string[]> {
  if (!shared) {
    return (await dataSource.runMigrations({ transaction: 'all' })).map((m) => m.name);
  }
  // Replicas starting together on one PostgreSQL: one migrates, the others wait and find nothing to do.
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  // A session-level lock: it must be taken and released on this one connection.
  const sql = crossTenant(lock);
  try {
    await sql.sql('migration_lock', 'SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return (await dataSource.runMigrations({ transaction: 'all' })).map((m) => m.name);
  } finally {
    await sql
      .sql('migration_unlock', 'SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
      .catch(() => undefined);
    await lock.release();
  }
}

const MIGRATION_LOCK = 7_220_431_001;

export async function migrateStandalone(config: AppConfig): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(config));
  await ds.initialize();
  try {
    return await runMigrations(ds, Boolean(config.databaseUrl));
  } finally {
    await ds.destroy();
  }
}
