import type { Readable, Writable } from 'node:stream';

export type Json = Record<string, unknown>;

export interface ExportRequest {
  tenantId: string;
  secrets: 'passphrase' | 'plaintext' | 'omit';
  passphrase?: string;
  signingKeys: boolean;
  out: Writable;
}

export interface ImportRequest {
  input: Readable;
  tenantId?: string;
  passphrase?: string;
}

/**
 * What the commands do, against a running server's API (HttpBackend, `--url` and `--key`) or
 * straight on the database with the server's configuration (LocalBackend, for bootstrap and
 * recovery). Both answer the API's shapes, so `--json` output is the same either way.
 */
export interface Backend {
  readonly mode: 'api' | 'database';
  health(): Promise<Json>;
  listTenants(limit: number, offset: number): Promise<Json>;
  createTenant(body: Json): Promise<Json>;
  deleteTenant(tenantId: string): Promise<void>;
  listOperatorKeys(limit: number, offset: number): Promise<Json>;
  createOperatorKey(body: Json): Promise<Json>;
  revokeOperatorKey(keyId: string): Promise<void>;
  rotateSigningKeys(tenantId: string, body: Json): Promise<Json>;
  createUser(tenantId: string, body: Json): Promise<Json>;
  resetPassword(tenantId: string, username: string, password: string): Promise<Json>;
  exportTenant(request: ExportRequest): Promise<void>;
  importTenant(request: ImportRequest): Promise<Json>;
  close(): Promise<void>;
}
