import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend, ExportRequest, ImportRequest, Json } from './backend.js';
import { CliError, EXIT, exitCodeOfStatus } from './errors.js';

/** The management API of a running server, as an operator key sees it. */
export class HttpBackend implements Backend {
  readonly mode = 'api' as const;
  private readonly base: string;

  constructor(
    url: string,
    private readonly key: string | undefined,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  private async call(
    method: string,
    path: string,
    o: { body?: unknown; headers?: Record<string, string>; raw?: boolean; auth?: boolean } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (o.auth !== false) {
      if (!this.key) throw new CliError('--key (or IDP_KEY) is required with --url', EXIT.usage);
      headers.authorization = `Bearer ${this.key}`;
    }
    let body: RequestInit['body'];
    if (o.body instanceof Readable) {
      body = Readable.toWeb(o.body) as ReadableStream;
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        EXIT.unavailable,
      );
    }
    if (!res.ok) {
      const text = await res.text();
      let problem: Json | undefined;
      try {
        problem = JSON.parse(text) as Json;
      } catch {
        problem = undefined;
      }
      const detail = (problem?.detail ?? problem?.title ?? text) || res.statusText;
      throw new CliError(`${res.status}: ${String(detail)}`, exitCodeOfStatus(res.status), problem);
    }
    return res;
  }

  private async json(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await this.call(method, path, { body });
    return res.status === 204 ? {} : ((await res.json()) as Json);
  }

  async health(): Promise<Json> {
    const live = (await (await this.call('GET', '/health', { auth: false })).json()) as Json;
    const ready = (await (await this.call('GET', '/health/ready', { auth: false })).json()) as Json;
    return { ...live, ready: ready.status, checks: ready.checks };
  }

  listTenants(limit: number, offset: number) {
    return this.json('GET', `/api/v1/tenants?limit=${limit}&offset=${offset}`);
  }

  createTenant(body: Json) {
    return this.json('POST', '/api/v1/tenants', body);
  }

  async deleteTenant(tenantId: string) {
    await this.json('DELETE', `/api/v1/tenants/${encodeURIComponent(tenantId)}`);
  }

  listOperatorKeys(limit: number, offset: number) {
    return this.json('GET', `/api/v1/api-keys?limit=${limit}&offset=${offset}`);
  }

  createOperatorKey(body: Json) {
    return this.json('POST', '/api/v1/api-keys', body);
  }

  async revokeOperatorKey(keyId: string) {
    await this.json('DELETE', `/api/v1/api-keys/${encodeURIComponent(keyId)}`);
  }

  rotateSigningKeys(tenantId: string, body: Json) {
    return this.json(
      'POST',
      `/api/v1/tenants/${encodeURIComponent(tenantId)}/signing-keys/rotate`,
      body,
    );
  }

  createUser(tenantId: string, body: Json) {
    return this.json('POST', `/api/v1/tenants/${encodeURIComponent(tenantId)}/users`, body);
  }

  async resetPassword(tenantId: string, username: string, password: string) {
    const t = encodeURIComponent(tenantId);
    const user = await this.json(
      'GET',
      `/api/v1/tenants/${t}/users/by-username/${encodeURIComponent(username)}`,
    );
    await this.json('PUT', `/api/v1/tenants/${t}/users/${String(user.user_id)}/password`, {
      password,
    });
    return { tenant_id: tenantId, user_id: user.user_id, username: user.username };
  }

  async exportTenant(r: ExportRequest) {
    const query = `secrets=${r.secrets}&signing_keys=${r.signingKeys}`;
    const res = await this.call(
      'GET',
      `/api/v1/tenants/${encodeURIComponent(r.tenantId)}/export?${query}`,
      {
        headers: {
          accept: 'application/x-ndjson',
          ...(r.passphrase ? { 'x-transfer-passphrase': r.passphrase } : {}),
        },
      },
    );
    await pipeline(Readable.fromWeb(res.body as never), r.out, { end: false });
  }

  async importTenant(r: ImportRequest) {
    const query = r.tenantId ? `?tenant_id=${encodeURIComponent(r.tenantId)}` : '';
    const res = await this.call('POST', `/api/v1/tenants/import${query}`, {
      body: r.input,
      headers: {
        'content-type': 'application/x-ndjson',
        ...(r.passphrase ? { 'x-transfer-passphrase': r.passphrase } : {}),
      },
    });
    return (await res.json()) as Json;
  }

  async close() {}
}
