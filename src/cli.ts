#!/usr/bin/env node
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli/run.js';
import { CliError, EXIT } from './cli/errors.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';

/**
 * `idp`, the operator's command line (README "CLI"). The entry point is the one place that loads
 * the whole application: on the database, commands run the server's own services. It loads them
 * only then, so a command against a server's API starts in a fraction of a second.
 */
function config(): AppConfig {
  try {
    return loadConfig({ LOG_LEVEL: 'silent', ...process.env });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

const code = await run(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
  {
    async openDatabase() {
      const cfg = config();
      const [{ NestFactory }, { AppModule }, { LocalBackend }, { INITIAL_OPERATOR_KEY_FILE }] =
        await Promise.all([
          import('@nestjs/core'),
          import('./app.module.js'),
          import('./cli/local-backend.js'),
          import('./api-keys/api-keys.service.js'),
        ]);
      const keyFile = join(cfg.dataDir, INITIAL_OPERATOR_KEY_FILE);
      const hadKeyFile = existsSync(keyFile);
      const app = await NestFactory.createApplicationContext(AppModule.forRoot(cfg), {
        logger: false,
        abortOnError: false,
      });
      // The first start on an empty database writes an operator key (as the server would): say so.
      if (!hadKeyFile && existsSync(keyFile)) {
        process.stderr.write(
          `idp: no operator key existed; the initial one was written to ${keyFile} (mode 0600)\n`,
        );
      }
      return new LocalBackend(app, cfg);
    },
    migrate: async () => (await import('./database/migrate.js')).migrateStandalone(config()),
  },
);
// Pools and timers of the application would keep the process alive: the answer is given.
process.exitCode = code;
setImmediate(() => process.exit(code));
