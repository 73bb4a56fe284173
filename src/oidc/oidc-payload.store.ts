import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { CLAIM_COLUMNS, type ClaimsUser } from '../users/user.entity.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';

export type Payload = Record<string, unknown>;

/** An artefact, and for a user's token what hangs off it (absent: not looked up). */
export interface FoundPayload {
  payload: Payload | undefined;
  grant?: { id: string; payload: Payload | undefined };
  session?: { uid: string; payload: Payload | undefined };
  account?: { id: string; user: ClaimsUser | undefined };
}

/** Tokens of a user sign-in: they name a grant, maybe a session, and an account. */
const USER_TOKEN_MODELS = `('AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest')`;
const UUID_TEXT = `'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;

/** Any number of (model, id) pairs of one tenant, in one statement; `i` is the pair's position. */
const FIND_BATCH_SQL = `
SELECT k.i, t.payload, t.expires_at, t.consumed_at, t.grant_id,
       k.model IN ${USER_TOKEN_MODELS} AND t.payload->>'expiresWithSession' = 'true' AS bound_session,
       k.model IN ${USER_TOKEN_MODELS} AS with_account,
       g.payload AS g_payload, g.expires_at AS g_expires_at, g.consumed_at AS g_consumed_at,
       s.payload AS s_payload, s.expires_at AS s_expires_at, s.consumed_at AS s_consumed_at,
       ${CLAIM_COLUMNS.map((c) => `u.${c} AS u_${c}`).join(', ')}
FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(model, id, i)
JOIN oidc_payloads t ON t.tenant_id = $1 AND t.model = k.model AND t.id = k.id
LEFT JOIN oidc_payloads g ON k.model IN ${USER_TOKEN_MODELS}
  AND g.tenant_id = t.tenant_id AND g.model = 'Grant' AND g.id = t.grant_id
LEFT JOIN oidc_payloads s ON k.model IN ${USER_TOKEN_MODELS}
  AND t.payload->>'expiresWithSession' = 'true'
  AND s.tenant_id = t.tenant_id AND s.model = 'Session' AND s.uid = t.payload->>'sessionUid'
LEFT JOIN users u ON k.model IN ${USER_TOKEN_MODELS} AND u.tenant_id = t.tenant_id
  AND u.user_id = CASE WHEN t.payload->>'accountId' ~ ${UUID_TEXT}
                       THEN (t.payload->>'accountId')::uuid END`;

type Row = Pick<OidcPayloadEntity, 'payload' | 'expires_at' | 'consumed_at'>;
type FindRow = Row & {
  i: string | number;
  grant_id: string | null;
  bound_session: boolean;
  with_account: boolean;
  g_payload: Payload | null;
  g_expires_at: Date | null;
  g_consumed_at: Date | null;
  s_payload: Payload | null;
  s_expires_at: Date | null;
  s_consumed_at: Date | null;
} & { [column: `u_${string}`]: unknown };

interface PendingFind {
  model: string;
  id: string;
  resolve: (found: FoundPayload) => void;
  reject: (err: unknown) => void;
}

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
  /** Finds waiting for the next flush, per tenant. */
  private readonly batches = new Map<string, PendingFind[]>();

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

  private toPayload(row: Row | null | undefined): Payload | undefined {
    if (!row) return undefined;
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return undefined;
    return row.consumed_at
      ? { ...row.payload, consumed: epoch(new Date(row.consumed_at)) }
      : row.payload;
  }

  /**
   * One artefact by id. Finds issued together (introspection looks a token up as an access
   * token, a client credentials token and a refresh token at once; concurrent requests of a
   * tenant) go out as one statement, and a token comes back with its grant, the session it is
   * bound to and its user, which the request needs next (see request-prefetch.ts).
   */
  find(tenantId: string, model: string, id: string): Promise<FoundPayload> {
    let batch = this.batches.get(tenantId);
    if (!batch) {
      this.batches.set(tenantId, (batch = []));
      if (this.batches.size === 1) setImmediate(() => this.flush());
    }
    return new Promise((resolve, reject) => batch.push({ model, id, resolve, reject }));
  }

  private flush() {
    const batches = [...this.batches];
    this.batches.clear();
    for (const [tenantId, finds] of batches) {
      this.payloads
        .sql<FindRow>(tenantId, 'oidc_payload_find_batch', FIND_BATCH_SQL, [
          finds.map((f) => f.model),
          finds.map((f) => f.id),
        ])
        .then(
          (rows) => {
            const byIndex = new Map(rows.map((r) => [Number(r.i), r]));
            finds.forEach((f, i) => f.resolve(this.found(byIndex.get(i + 1))));
          },
          (err: unknown) => finds.forEach((f) => f.reject(err)),
        );
    }
  }

  private found(row: FindRow | undefined): FoundPayload {
    const payload = this.toPayload(row);
    if (!row || !payload) return { payload };
    const found: FoundPayload = { payload };
    if (row.grant_id) {
      found.grant = {
        id: row.grant_id,
        payload: this.toPayload(
          row.g_payload
            ? {
                payload: row.g_payload,
                expires_at: row.g_expires_at,
                consumed_at: row.g_consumed_at,
              }
            : null,
        ),
      };
    }
    if (row.bound_session && typeof payload.sessionUid === 'string') {
      found.session = {
        uid: payload.sessionUid,
        payload: this.toPayload(
          row.s_payload
            ? {
                payload: row.s_payload,
                expires_at: row.s_expires_at,
                consumed_at: row.s_consumed_at,
              }
            : null,
        ),
      };
    }
    if (row.with_account && typeof payload.accountId === 'string') {
      found.account = {
        id: payload.accountId,
        user: row.u_user_id
          ? (Object.fromEntries(CLAIM_COLUMNS.map((c) => [c, row[`u_${c}`]])) as ClaimsUser)
          : undefined,
      };
    }
    return found;
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
