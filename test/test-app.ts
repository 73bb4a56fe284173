import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.js';
import { createRootLogger } from '../src/logging.js';
import { loadConfig, type AppConfig } from '../src/config/config.js';

export const TEST_OPERATOR_KEY = 'idp_test_operator_key_0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  operatorKey: string;
  /** fetch against the app; JSON bodies are encoded, answers decoded. */
  http: (method: string, path: string, options?: RequestOptions) => Promise<TestResponse>;
  close: () => Promise<void>;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/**
 * Boots the real application on a random port. With `embedded`, on a fresh PGlite in a temp
 * DATA_DIR; otherwise on the run's PostgreSQL database (test/global-setup.js).
 */
export async function startTestApp(
  options: {
    embedded?: boolean;
    env?: Record<string, string>;
    /** The host of PUBLIC_URL: `localhost` for WebAuthn, whose RP ID cannot be an IP address. */
    publicHost?: string;
    /** Collects every log line (JSON) written from the start on; LOG_LEVEL defaults to info. */
    logs?: string[];
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const env: Record<string, string | undefined> = {
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? (options.logs ? 'info' : 'silent'),
    NODE_ENV: 'test',
    IDP_BOOTSTRAP_OPERATOR_KEY: TEST_OPERATOR_KEY,
    BCRYPT_COST: '4',
    ...options.env,
  };
  if (!options.embedded) {
    const url = process.env.TEST_DATABASE_URL;
    if (!url)
      throw new Error(
        'TEST_DATABASE_URL is not set: run the suites through jest (test/global-setup.js)',
      );
    env.DATABASE_URL ??= url;
    env.IDP_MASTER_KEY ??= randomBytes(32).toString('hex');
  }
  const config = loadConfig(env);
  const logs = options.logs;
  const { app } = await createApp(
    config,
    logs ? createRootLogger(config, { write: (line: string) => void logs.push(line) }) : undefined,
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://${options.publicHost ?? '127.0.0.1'}:${port}`;
  config.publicUrl = baseUrl;

  const http = async (
    method: string,
    path: string,
    o: RequestOptions = {},
  ): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? TEST_OPERATOR_KEY : o.key;
    if (key) headers['x-api-key'] = key;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = undefined;
    // JSON and problem+json, not NDJSON (several documents, read from `text`).
    if (text && /[/+]json\b/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  return { app, config, baseUrl, operatorKey: TEST_OPERATOR_KEY, http, close: () => app.close() };
}

let counter = 0;
/** A tenant id no other test uses, so suites never depend on each other's data. */
export function uniqueTenantId(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid.toString(36)}-${counter}`;
}

/** Creates a tenant and a tenant key holding `scopes`; answers both. */
export async function newTenant(
  t: TestApp,
  scopes: string[] = ['tenants:write', 'api-keys:write'],
  settings: Record<string, unknown> = {},
  tenantId = uniqueTenantId(),
) {
  const created = await t.http('POST', '/api/v1/tenants', {
    body: { tenant_id: tenantId, display_name: `Tenant ${tenantId}`, ...settings },
  });
  if (created.status !== 201)
    throw new Error(`tenant create failed: ${created.status} ${created.text}`);
  const key = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
    body: { name: 'test', scopes },
  });
  if (key.status !== 201) throw new Error(`key create failed: ${key.status} ${key.text}`);
  return {
    tenantId,
    tenant: created.body,
    key: key.body.api_key as string,
    keyId: key.body.key_id as string,
  };
}
