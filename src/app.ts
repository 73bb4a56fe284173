import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';
import { createRootLogger, PinoNestLogger } from './logging.js';
import { registerLoginForms } from './login/form-body.js';
import { mountOidc } from './oidc/oidc.mount.js';
import { setupOpenApi } from './openapi.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    // Throw instead of exiting: main() prints one line, tests see the real error.
    abortOnError: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  // The API speaks JSON only; anything else is 415, not a string that fails validation oddly.
  fastify.removeContentTypeParser('text/plain');
  // SCIM clients send application/scim+json (RFC 7644 §3.1); parsed like JSON.
  fastify.addContentTypeParser(
    'application/scim+json',
    { parseAs: 'string' },
    fastify.getDefaultJsonParser('error', 'error'),
  );
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Tenants' OIDC endpoints run in middie, before Fastify parses bodies.
  mountOidc(app);

  setupOpenApi(app, config);
  await app.init();
  // After init: it replaces the urlencoded parser Nest registers there (login pages only).
  registerLoginForms(fastify);
  return { app, logger };
}
