import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Provider from 'oidc-provider';
import { In, type DataSource } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { UUID_PATTERN } from '../common/ids.js';
import { CLAIM_COLUMNS, type ClaimsUser } from '../users/user.entity.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';
import { purgeExpiredPayloads } from './oidc-payload-purge.js';
import { AlreadyConsumed, NOT_FOUND, ONE_TIME_MODELS, storable } from './payload-rules.js';

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
  AND u.user_id = CASE WHEN t.payload->>'accountId' ~* '${UUID_PATTERN.source}'
                       THEN (t.payload->>'accountId')::uuid END`;

/** One adapter write, as oidc_payloads_apply (migration 1763900008000) reads it. */
type WriteOp =
  | {
      op: 'upsert';
      model: string;
      id: string;
      payload: Payload;
      grant_id: string | null;
      user_code: string | null;
      uid: string | null;
      expires_at: string | null;
    }
  | { op: 'consume' | 'consume_once' | 'destroy'; model: string; id: string }
  | { op: 'revoke_grant'; model: string; grant_id: string };

interface RequestWrites {
  tenantId: string;
  ops: WriteOp[];
  /** The request's writes being applied (reads and the end of the request wait for them). */
  applying?: Promise<void>;
}

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
  /** Provider requests whose writes wait for the end of the request (see beginRequest). */
  private readonly deferring = new WeakMap<object, RequestWrites>();
  /** Write lists waiting for the next flush, per tenant. */
  private readonly writes = new Map<
    string,
    Array<{ ops: WriteOp[]; resolve: () => void; reject: (err: unknown) => void }>
  >();
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

  upsert(
    tenantId: string,
    model: string,
    id: string,
    payload: Payload,
    expiresIn: number | undefined,
  ): Promise<void> {
    return this.write(tenantId, {
      op: 'upsert',
      model,
      id,
      payload,
      grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
      user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null,
    });
  }

  /**
   * Codes, refresh tokens and device codes are consumed only if nobody did before, in the same
   * call as the tokens the request then writes (migration 1764000300000): of concurrent
   * redemptions exactly one commits, and each other one fails as a whole with AlreadyConsumed
   * (nothing it was about to hand out is stored). Other artefacts are marked as before.
   */
  consume(tenantId: string, model: string, id: string): Promise<void> {
    const op = ONE_TIME_MODELS.has(model) ? 'consume_once' : 'consume';
    return this.write(tenantId, { op, model, id });
  }

  /**
   * Deletes, at once, the grant an artefact belongs to and everything issued from it (what
   * oidc-provider's revocation of a reused token does, in one statement). Answers the grant id,
   * or null when the artefact names none or is already gone.
   */
  async revokeGrantOf(tenantId: string, model: string, id: string): Promise<string | null> {
    if (!storable(id)) return null;
    await this.settle();
    const rows = await this.payloads.sql<{ grant_id: string }>(
      tenantId,
      'oidc_payload_revoke_grant_of',
      `WITH g AS (SELECT grant_id FROM oidc_payloads
                  WHERE tenant_id = $1 AND model = $2 AND id = $3 AND grant_id IS NOT NULL),
            d AS (DELETE FROM oidc_payloads p USING g
                  WHERE p.tenant_id = $1
                    AND (p.grant_id = g.grant_id OR (p.model = 'Grant' AND p.id = g.grant_id))
                  RETURNING 1)
       SELECT grant_id FROM g`,
      [model, id],
    );
    return rows[0]?.grant_id ?? null;
  }

  destroy(tenantId: string, model: string, id: string): Promise<void> {
    if (!storable(id)) return Promise.resolve();
    return this.write(tenantId, { op: 'destroy', model, id });
  }

  revokeByGrantId(tenantId: string, model: string, grantId: string): Promise<void> {
    if (!storable(grantId)) return Promise.resolve();
    return this.write(tenantId, { op: 'revoke_grant', model, grant_id: grantId });
  }

  /**
   * From here to `endRequest`, the writes of this provider request (oidc-provider's context)
   * wait, and go out in order in one call: a token request writes three to four rows one after
   * another. Its own reads first apply what it wrote; nobody else can see the difference,
   * because the answer leaves only after `endRequest`.
   */
  beginRequest(ctx: object, tenantId: string): void {
    this.deferring.set(ctx, { tenantId, ops: [] });
  }

  /** Applies what the request wrote; rejects when that failed (the request must then fail). */
  async endRequest(ctx: object): Promise<void> {
    const pending = this.deferring.get(ctx);
    if (!pending) return;
    try {
      // A write the request did not await may arrive while the others are applied: apply
      // until nothing is left. From the delete on (same tick), writes go out on their own.
      do {
        await this.settle(pending);
      } while (pending.ops.length);
    } finally {
      this.deferring.delete(ctx);
    }
  }

  private write(tenantId: string, op: WriteOp): Promise<void> {
    const ctx = Provider.ctx as object | undefined;
    const pending = ctx && this.deferring.get(ctx);
    if (pending && pending.tenantId === tenantId) {
      pending.ops.push(op);
      return Promise.resolve();
    }
    return this.apply(tenantId, [op]);
  }

  /** Before a read in a provider request: what the request wrote so far is applied. */
  private settle(pending = this.pendingOfRequest()): Promise<void> | undefined {
    if (!pending) return undefined;
    if (pending.ops.length) {
      const ops = pending.ops.splice(0);
      const previous = pending.applying;
      pending.applying = (previous ?? Promise.resolve()).then(() =>
        this.apply(pending.tenantId, ops),
      );
    }
    return pending.applying;
  }

  private pendingOfRequest(): RequestWrites | undefined {
    const ctx = Provider.ctx as object | undefined;
    return ctx ? this.deferring.get(ctx) : undefined;
  }

  /**
   * Group commit: the write lists of one tenant that are ready in the same turn of the event
   * loop go out as one call, each list in order. If that call fails, each list is retried on
   * its own, so one bad list fails only its own request.
   */
  private apply(tenantId: string, ops: WriteOp[]): Promise<void> {
    let queue = this.writes.get(tenantId);
    if (!queue) {
      this.writes.set(tenantId, (queue = []));
      if (this.writes.size === 1) setImmediate(() => this.flushWrites());
    }
    return new Promise((resolve, reject) => queue.push({ ops, resolve, reject }));
  }

  private flushWrites() {
    const queues = [...this.writes];
    this.writes.clear();
    for (const [tenantId, lists] of queues) {
      this.run(
        tenantId,
        lists.flatMap((l) => l.ops),
      ).then(
        () => lists.forEach((l) => l.resolve()),
        (err: unknown) => {
          if (lists.length === 1) return lists[0].reject(err);
          for (const l of lists) this.run(tenantId, l.ops).then(l.resolve, l.reject);
        },
      );
    }
  }

  private async run(tenantId: string, ops: WriteOp[]): Promise<void> {
    try {
      await this.payloads.sql(
        tenantId,
        'oidc_payloads_apply',
        'SELECT oidc_payloads_apply($1, $2::jsonb)',
        [JSON.stringify(ops)],
      );
    } catch (err) {
      throw AlreadyConsumed.from(err) ?? err;
    }
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
    if (!storable(id)) return Promise.resolve(NOT_FOUND);
    const settling = this.settle();
    if (settling) return settling.then(() => this.enqueueFind(tenantId, model, id));
    return this.enqueueFind(tenantId, model, id);
  }

  private enqueueFind(tenantId: string, model: string, id: string): Promise<FoundPayload> {
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

  /** The grant (`g`) or session (`s`) row joined to a token, as a payload. */
  private joined(row: FindRow, alias: 'g' | 's'): Payload | undefined {
    const payload = row[`${alias}_payload`];
    return payload
      ? this.toPayload({
          payload,
          expires_at: row[`${alias}_expires_at`],
          consumed_at: row[`${alias}_consumed_at`],
        })
      : undefined;
  }

  private found(row: FindRow | undefined): FoundPayload {
    const payload = this.toPayload(row);
    if (!row || !payload) return { payload };
    const found: FoundPayload = { payload };
    if (row.grant_id) {
      found.grant = { id: row.grant_id, payload: this.joined(row, 'g') };
    }
    if (row.bound_session && typeof payload.sessionUid === 'string') {
      found.session = { uid: payload.sessionUid, payload: this.joined(row, 's') };
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
    if (!storable(uid)) return undefined;
    await this.settle();
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
    if (!storable(userCode)) return undefined;
    await this.settle();
    return this.toPayload(await this.payloads.findOne(tenantId, { model, user_code: userCode }));
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
    await this.settle();
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
   * cross-tenant SQL rather than a tenant repository. Answers how many rows went.
   */
  purgeExpired(): Promise<number> {
    this.cleaning ??= purgeExpiredPayloads(this.dataSource, this.logger).finally(
      () => (this.cleaning = undefined),
    );
    return this.cleaning;
  }
}
