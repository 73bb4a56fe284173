import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';

export type Payload = Record<string, unknown>;

const CLEANUP_EVERY_MS = 5 * 60_000;
const CLEANUP_BATCH = 1000;
const CLEANUP_TENANT_PAGE = 500;

function epoch(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Storage of oidc-provider artefacts for every tenant, in `oidc_payloads`. The provider's
 * adapter (oidc.adapter.ts) is a thin per-tenant, per-model view over this store.
 */
@Injectable()
export class OidcPayloadStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OidcPayloadStore');
  private timer?: NodeJS.Timeout;
  private cleaning?: Promise<number>;

  constructor(
    @InjectTenantRepository(OidcPayloadEntity)
    private readonly payloads: TenantRepository<OidcPayloadEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => void this.purgeExpired(), CLEANUP_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
  }

  async upsert(
    tenantId: string,
    model: string,
    id: string,
    payload: Payload,
    expiresIn: number | undefined,
  ): Promise<void> {
    const row = {
      model,
      id,
      payload,
      grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
      user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    // One round trip, on the token endpoint's hot path.
    await this.payloads.sql(
      tenantId,
      'oidc_payload_upsert',
      `INSERT INTO oidc_payloads (tenant_id, model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, model, id) DO UPDATE SET payload = EXCLUDED.payload,
         grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code, uid = EXCLUDED.uid,
         expires_at = EXCLUDED.expires_at
       WHERE oidc_payloads.tenant_id = $1`,
      [
        row.model,
        row.id,
        JSON.stringify(row.payload),
        row.grant_id,
        row.user_code,
        row.uid,
        row.expires_at,
      ],
    );
  }

  private toPayload(
    row: Pick<OidcPayloadEntity, 'payload' | 'expires_at' | 'consumed_at'> | null | undefined,
  ): Payload | undefined {
    if (!row) return undefined;
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return undefined;
    return row.consumed_at
      ? { ...row.payload, consumed: epoch(new Date(row.consumed_at)) }
      : row.payload;
  }

  async find(tenantId: string, model: string, id: string): Promise<Payload | undefined> {
    const rows = await this.payloads.sql<
      Pick<OidcPayloadEntity, 'payload' | 'expires_at' | 'consumed_at'>
    >(
      tenantId,
      'oidc_payload_find',
      'SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND id = $3',
      [model, id],
    );
    return this.toPayload(rows[0]);
  }

  async findByUid(tenantId: string, model: string, uid: string): Promise<Payload | undefined> {
    const rows = await this.payloads.sql<
      Pick<OidcPayloadEntity, 'payload' | 'expires_at' | 'consumed_at'>
    >(
      tenantId,
      'oidc_payload_find_uid',
      'SELECT payload, expires_at, consumed_at FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND uid = $3 LIMIT 1',
      [model, uid],
    );
    return this.toPayload(rows[0]);
  }

  async findByUserCode(
    tenantId: string,
    model: string,
    userCode: string,
  ): Promise<Payload | undefined> {
    return this.toPayload(await this.payloads.findOne(tenantId, { model, user_code: userCode }));
  }

  async consume(tenantId: string, model: string, id: string): Promise<void> {
    await this.payloads.sql(
      tenantId,
      'oidc_payload_consume',
      'UPDATE oidc_payloads SET consumed_at = now() WHERE tenant_id = $1 AND model = $2 AND id = $3',
      [model, id],
    );
  }

  async destroy(tenantId: string, model: string, id: string): Promise<void> {
    await this.payloads.sql(
      tenantId,
      'oidc_payload_destroy',
      'DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND id = $3',
      [model, id],
    );
  }

  async revokeByGrantId(tenantId: string, model: string, grantId: string): Promise<void> {
    await this.payloads.sql(
      tenantId,
      'oidc_payload_revoke_grant',
      'DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND grant_id = $3',
      [model, grantId],
    );
  }

  /**
   * Ends everything a user holds in the tenant: sessions, grants, codes, tokens, pending
   * interactions and device codes all carry the account id in their payload.
   */
  async revokeAccount(tenantId: string, accountId: string): Promise<number> {
    const rows = await this.payloads
      .query(tenantId, 'p')
      .select(['p.model', 'p.id'])
      .andWhere(`p.payload->>'accountId' = :accountId`, { accountId })
      .getMany();
    const byModel = new Map<string, string[]>();
    for (const r of rows) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r.id]);
    let deleted = 0;
    for (const [model, ids] of byModel) {
      deleted += await this.payloads.delete(tenantId, { model, id: In(ids) });
    }
    return deleted;
  }

  /** The most recent live grant a user gave a client, to carry consent over to a new session. */
  async latestGrant(
    tenantId: string,
    accountId: string,
    clientId: string,
  ): Promise<Payload | undefined> {
    const row = await this.payloads
      .query(tenantId, 'p')
      .andWhere('p.model = :model', { model: 'Grant' })
      .andWhere(`p.payload->>'accountId' = :accountId`, { accountId })
      .andWhere(`p.payload->>'clientId' = :clientId`, { clientId })
      .andWhere('(p.expires_at IS NULL OR p.expires_at > now())')
      .orderBy(`(p.payload->>'iat')::bigint`, 'DESC')
      .limit(1)
      .getOne();
    return this.toPayload(row);
  }

  /**
   * Deletes expired rows of every tenant in bounded batches, a page of tenants at a time so each
   * statement walks the (tenant_id, expires_at) index. A maintenance job across tenants, hence
   * plain SQL rather than a tenant repository. Answers how many rows went.
   */
  purgeExpired(): Promise<number> {
    this.cleaning ??= this.runPurge().finally(() => (this.cleaning = undefined));
    return this.cleaning;
  }

  private async runPurge(): Promise<number> {
    let total = 0;
    let after = '';
    try {
      for (;;) {
        const tenants: Array<{ tenant_id: string }> = await this.dataSource.query(
          'SELECT tenant_id FROM tenants WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2',
          [after, CLEANUP_TENANT_PAGE],
        );
        if (!tenants.length) break;
        const ids = tenants.map((t) => t.tenant_id);
        for (;;) {
          const result: [unknown, number] = await this.dataSource.query(
            `DELETE FROM oidc_payloads WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM oidc_payloads
               WHERE tenant_id = ANY($1) AND expires_at < now() LIMIT ${CLEANUP_BATCH}))`,
            [ids],
          );
          const deleted = Number(result[1] ?? 0);
          total += deleted;
          if (deleted < CLEANUP_BATCH) break;
        }
        after = ids[ids.length - 1];
      }
    } catch (err) {
      this.logger.warn({ err }, 'expired OIDC artefact cleanup failed; retried on the next run');
    }
    return total;
  }
}
