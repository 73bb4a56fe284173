import { performance } from 'node:perf_hooks';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { installSignalHandlers } from './shutdown.js';

async function main() {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { app, logger } = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  installSignalHandlers(app, logger, config);
  logger.info(
    {
      startup_ms: Math.round(performance.now()),
      database: config.databaseUrl ? 'postgresql' : 'pglite',
      redis: Boolean(config.redisUrl),
      public_url: config.publicUrl,
    },
    `ready in ${Math.round(performance.now())} ms on port ${config.port}`,
  );
}

main().catch((error) => {
  process.stderr.write(`Start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
