import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { AppConfig } from './config/config.js';

export function buildOpenApiDocument(
  app: NestFastifyApplication,
  config: Pick<AppConfig, 'version' | 'publicUrl'>,
): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('Identity platform API')
    .setDescription(
      'Management API of the multi-tenant identity platform. Authenticate with `X-API-Key: <key>` ' +
        'or `Authorization: Bearer <key>`. Each operation lists the scope it requires in its security ' +
        'requirement and in `x-required-scope`; `public` operations need no credential. Errors are ' +
        'RFC 9457 `application/problem+json`.',
    )
    .setVersion(config.version)
    .setLicense(
      'UNLICENSED (proprietary)',
      'https://docs.npmjs.com/cli/configuring-npm/package-json#license',
    )
    .addServer(config.publicUrl)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'an API key or access token' },
      'bearer',
    )
    .build();
  return SwaggerModule.createDocument(app, doc);
}

/** Swagger UI at /docs, the document at /openapi.json. */
export function setupOpenApi(app: NestFastifyApplication, config: AppConfig) {
  const document = buildOpenApiDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: 'Identity platform API',
  });
}
