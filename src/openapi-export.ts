import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from './app.js';
import { loadConfig } from './config/config.js';
import { buildOpenApiDocument } from './openapi.js';

/** Writes openapi.json (committed; the platform e2e suite fails when it is stale). */
const dataDir = mkdtempSync(join(tmpdir(), 'idp-openapi-'));
const config = loadConfig({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'silent',
  PUBLIC_URL: 'http://localhost:3000',
  IDP_BOOTSTRAP_OPERATOR_KEY: 'openapi-export-placeholder-key',
});
const { app } = await createApp(config);
const document = buildOpenApiDocument(app, config);
// The committed document names no host: a deployment serves its own with its PUBLIC_URL.
document.servers = [{ url: '/', description: 'the deployment serving this document' }];
await app.close();
rmSync(dataDir, { recursive: true, force: true });
writeFileSync(
  new URL('../../openapi.json', import.meta.url),
  JSON.stringify(document, null, 2) + '\n',
);
process.stdout.write('openapi.json written\n');
