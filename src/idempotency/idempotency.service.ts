import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';

/** A claim that ran longer than this is taken to have died with its process: the key is free. */
const ABANDONED_SECONDS = 300;

export type ClaimOutcome =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; contentType: string | null; body: string }
  | { kind: 'in-progress' }
  | { kind: 'mismatch' };

/** JSON with object keys sorted, so the same body in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .toSorted()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export function fingerprintOf(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route}\n${canonicalJson(body)}`)
    .digest('hex');
}

/**
 * Idempotency keys per tenant (the IETF Idempotency-Key header): the first request with a key
 * claims it, its 2xx answer is stored, and a resend within IDEMPOTENCY_KEY_HOURS gets that answer
 * again instead of running twice. Any other outcome frees the key (a failed request changed
 * nothing: batches are all-or-nothing), so the client can retry with it.
 */
@Injectable()
export class IdempotencyService {
  private readonly ttlSeconds: number;

  constructor(
    @InjectTenantRepository(IdempotencyKeyEntity)
    private readonly keys: TenantRepository<IdempotencyKeyEntity>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ttlSeconds = config.idempotencyKeyHours * 3600;
  }

  async claim(tenantId: string, key: string, fingerprint: string): Promise<ClaimOutcome> {
    await this.keys.sql(
      tenantId,
      'idempotency_keys_expire',
      'DELETE FROM idempotency_keys WHERE tenant_id = $1 AND expires_at < now()',
    );
    const claimed = await this.keys.sql(
      tenantId,
      'idempotency_keys_claim',
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, created_at, expires_at)
       VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
       ON CONFLICT (tenant_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
             expires_at = EXCLUDED.expires_at, status = NULL, content_type = NULL, body = NULL
         WHERE idempotency_keys.status IS NULL
           AND idempotency_keys.created_at < now() - make_interval(secs => $5)
       RETURNING key`,
      [key, fingerprint, this.ttlSeconds, ABANDONED_SECONDS],
    );
    if (claimed.length) return { kind: 'claimed' };
    const [row] = await this.keys.sql<IdempotencyKeyEntity>(
      tenantId,
      'idempotency_keys_read',
      `SELECT fingerprint, status, content_type, body FROM idempotency_keys
        WHERE tenant_id = $1 AND key = $2`,
      [key],
    );
    // Gone in between (released by its request): a new attempt may claim it.
    if (!row) return this.claim(tenantId, key, fingerprint);
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.status === null || row.body === null) return { kind: 'in-progress' };
    return { kind: 'replay', status: row.status, contentType: row.content_type, body: row.body };
  }

  /** Stores the answer of the request that claimed the key. */
  async complete(
    tenantId: string,
    key: string,
    status: number,
    contentType: string | null,
    body: string,
  ) {
    await this.keys.sql(
      tenantId,
      'idempotency_keys_complete',
      `UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
        WHERE tenant_id = $1 AND key = $2`,
      [key, status, contentType, body],
    );
  }

  /** Frees a key whose request did not succeed. */
  async release(tenantId: string, key: string) {
    await this.keys.sql(
      tenantId,
      'idempotency_keys_release',
      'DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status IS NULL',
      [key],
    );
  }
}
