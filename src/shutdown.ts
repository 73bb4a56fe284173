import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { Drain } from './common/drain.js';
import type { AppConfig } from './config/config.js';

/**
 * SIGTERM/SIGINT: drain the HTTP server (stop accepting, `Connection: close`, finish what is in
 * flight, cut the rest after SHUTDOWN_DRAIN_SECONDS), then close the application (database
 * pools, Redis, timers) and exit. Kubernetes waits 30 s by default; the drain defaults to 10.
 */
export function installSignalHandlers(
  app: NestFastifyApplication,
  logger: Logger,
  config: Pick<AppConfig, 'shutdownDrainMs'>,
  exit: (code: number) => void = (code) => process.exit(code),
) {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const drain = app.get(Drain);
    logger.info({ signal, in_flight: drain.inFlight }, 'shutting down: draining connections');
    let code = 0;
    try {
      const { forced, ms } = await drain.close(
        app.getHttpServer() as Server,
        config.shutdownDrainMs,
      );
      logger.info({ forced, drain_ms: ms }, 'connections drained');
      await app.close();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      code = 1;
    }
    exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, (s) => void stop(s));
  return stop;
}
