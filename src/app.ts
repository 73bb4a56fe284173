import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { requestIdOf } from './common/request-id.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';
import { createRootLogger, PinoNestLogger } from './logging.js';
import { registerLoginForms } from './hosted/kit/form-body.js';
import { mountOidc } from './oidc/oidc.mount.js';
import { mountAuthHost } from './forward-auth/auth-host.js';
import { mountForwardAuth } from './forward-auth/forward-auth.mount.js';
import { setupOpenApi } from './openapi.js';

export interface CreatedApp {
  app: NestFastifyApplication;
  logger: Logger;
}

/** Builds the whole application; main.ts listens on it, tests boot it in-process. */
export async function createApp(
  config: AppConfig,
  logger: Logger = createRootLogger(config),
): Promise<CreatedApp> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Honour a caller's request id when it is sane, so logs correlate across services.
    genReqId: (req: IncomingMessage) => requestIdOf(req.headers),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    // Throw instead of exiting: main() prints one line, tests see the real error.
    abortOnError: false,
  });
  app.useGlobalPipes(createValidationPipe());

  const fastify = app.getHttpAdapter().getInstance();
  // The API speaks JSON only; anything else is 415, not a string that fails validation oddly.
  fastify.removeContentTypeParser('text/plain');
  // SCIM clients send application/scim+json (RFC 7644 §3.1); parsed like JSON.
  fastify.addContentTypeParser(
    'application/scim+json',
    { parseAs: 'string' },
    fastify.getDefaultJsonParser('error', 'error'),
  );
  // Tenant imports arrive as NDJSON and are read as a stream, line by line (src/transfer).
  fastify.addContentTypeParser('application/x-ndjson', (_req, payload, done) =>
    done(null, payload),
  );
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Tenants' OIDC endpoints are taken before Fastify sees the request, see mountOidc.
  mountOidc(app, logger);
  // A tenant's dedicated auth host: UI paths elsewhere 307 there (ahead of the provider).
  mountAuthHost(app);
  // The forward-auth check likewise (asked before every request a proxy passes on).
  mountForwardAuth(app, logger);

  setupOpenApi(app, config);
  await app.init();
  // After init: it replaces the urlencoded parser Nest registers there (login pages only).
  registerLoginForms(fastify);
  return { app, logger };
}
