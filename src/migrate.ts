import { ConfigError, loadConfig } from './config/config.js';
import { migrateStandalone } from './database/migrate.js';

try {
  const applied = await migrateStandalone(loadConfig());
  process.stdout.write(
    applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n',
  );
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `Migration failed: ${(error as Error).message}`}\n`,
  );
  process.exit(1);
}
