import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { migrations } from '../../migrations/index.js';
import type { AppConfig } from '../config/config.js';

/**
 * PostgreSQL when DATABASE_URL is set; otherwise embedded PGlite in DATA_DIR/pglite. The
 * entities come from the app wiring (src/entities.ts); migrations alone need none.
 */
export function dataSourceOptions(
  config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  };
  if (config.databaseUrl) {
    return {
      ...common,
      url: config.databaseUrl,
      extra: { max: 20, idleTimeoutMillis: 30_000, application_name: 'idp' },
    };
  }
  const dir = join(config.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  return { ...common, driver: new PGliteDriver({ dataDir: dir }).driver };
}
