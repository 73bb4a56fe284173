import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { crossTenant, InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService } from '../audit/audit.service.js';
import { guardedFormPost, type OutboundPolicy } from '../common/outbound-url.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserEvents } from '../users/user-events.js';
import { BackchannelLogoutEntity } from './backchannel-logout.entity.js';
import { OidcPayloadStore } from './oidc-payload.store.js';
import { OidcProviders, type EndedSignIn } from './oidc-providers.service.js';
import { OidcSessions, type StoredSession } from './oidc-sessions.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Notices one replica claims at a time. */
const CLAIM_BATCH = 20;
/** Deliveries under way at once in one replica; the rest wait in the table for a free slot. */
const MAX_IN_FLIGHT = 100;
/**
 * How long a claimed notice stays invisible to the other replicas: longer than one delivery
 * (the POST's 2.5 s idle timeout, signing, a slow DNS answer). A replica that dies holding it
 * leaves it to be claimed again after this, so delivery is at least once, and once in the
 * ordinary case.
 */
const LEASE_SECONDS = 60;

interface SessionPayload {
  accountId?: string;
  authorizations?: Record<string, { sid?: string } | undefined>;
}

/** A logout token as the provider's IdToken model builds it (typ logout+jwt, exp in 120 s). */
interface LogoutTokenModel {
  mask: Record<string, null>;
  set(claim: string, value: unknown): void;
  issue(o: { use: 'logout' }): Promise<string>;
}

interface Claimed {
  tenant_id: string;
  id: string;
  client_id: string;
  sub: string;
  sid: string | null;
  attempts: number;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 (decision note 0026). Every way a session ends hands
 * its client sign-ins here: RP-initiated logout (through the provider, see
 * OidcProviders.propagateLogout), one session or all of them revoked (sessions module), a user
 * disabled, deleted or given a new password. Each notice is written to the tenant's outbox
 * (`backchannel_logout_outbox`) before the logout answers, and delivered by a worker in every
 * replica: a logout token signed with the tenant's key in the client's ID-token algorithm,
 * POSTed through the SSRF-guarded fetch (2.5 s idle timeout). The user's logout never waits
 * for an app. A failed delivery is tried again after the configured waits (survives restarts,
 * spreads over replicas, claimed with FOR UPDATE SKIP LOCKED), then given up with an audit event.
 */
@Injectable()
export class LogoutPropagation implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LogoutPropagation');
  private readonly outbound: OutboundPolicy;
  private readonly retryDelaysMs: number[];
  private readonly pollMs: number;
  private timer?: NodeJS.Timeout;
  /** The delivery round under way, and whether another was asked for meanwhile. */
  private round?: Promise<void>;
  private again = false;
  private full = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly sessions: OidcSessions,
    private readonly store: OidcPayloadStore,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    @InjectTenantRepository(BackchannelLogoutEntity)
    private readonly outbox: TenantRepository<BackchannelLogoutEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly adapterHost: HttpAdapterHost,
    userEvents: UserEvents,
  ) {
    this.outbound = { allowPrivate: config.outboundAllowPrivate };
    this.retryDelaysMs = config.backchannelLogout.retryDelaysMs;
    this.pollMs = config.backchannelLogout.pollMs;
    providers.onSignInEnded((e) => this.notify(e));
    userEvents.subscribe(async (e) => {
      // A new password also ends what the old one opened (a reset after a compromise must lock
      // the intruder out); the user signs in again.
      if (e.type === 'disabled' || e.type === 'deleted' || e.type === 'password_changed') {
        await this.endAccount(e.tenantId, e.userId);
      }
    });
  }

  /**
   * Polls once this replica serves HTTP (a CLI command's application context never does), so
   * notices left by a replica that stopped, or by this one before a restart, are picked up.
   * The first poll comes one interval after listening: the issuer every token carries is
   * settled by then.
   */
  onApplicationBootstrap() {
    const start = () => {
      if (this.closed || this.timer) return;
      this.timer = setInterval(() => this.wake(), this.pollMs);
      this.timer.unref();
    };
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    if (server.listening) start();
    else server.once('listening', start);
  }

  /**
   * Ends every session of an account with every grant and token, and tells the apps. The
   * sessions are read first: afterwards nothing records which apps they had signed in to.
   */
  async endAccount(tenantId: string, accountId: string): Promise<number> {
    const sessions = await this.sessions.ofAccount(tenantId, accountId);
    await this.store.revokeAccount(tenantId, accountId);
    await this.sessionsEnded(tenantId, sessions);
    return sessions.length;
  }

  /** Sessions that ended outside the provider (revoked by the user or an admin). */
  async sessionsEnded(tenantId: string, sessions: StoredSession[]): Promise<void> {
    for (const session of sessions) {
      const p = session.payload as SessionPayload;
      if (typeof p.accountId !== 'string') continue;
      for (const [clientId, a] of Object.entries(p.authorizations ?? {})) {
        await this.notify({ tenantId, clientId, sub: p.accountId, sid: a?.sid });
      }
    }
  }

  /**
   * Writes one client's notice to the outbox (due now) and starts a delivery round; answers
   * once the notice is stored, not delivered. A notice that cannot be stored is logged.
   */
  async notify(e: EndedSignIn): Promise<void> {
    try {
      await this.outbox.insert(e.tenantId, {
        id: randomUUID(),
        client_id: e.clientId,
        sub: e.sub,
        sid: e.sid ?? null,
        attempts: 0,
        next_attempt_at: new Date(),
        last_error: null,
      });
    } catch (err) {
      this.metrics.backchannelLogout('dropped');
      this.logger.error(
        { err, tenantId: e.tenantId, clientId: e.clientId },
        'back-channel logout notice could not be stored; not delivered',
      );
      return;
    }
    this.wake();
  }

  /** Starts a delivery round, or asks the one under way for another. */
  private wake(): void {
    if (this.closed) return;
    if (this.round) {
      this.again = true;
      return;
    }
    this.round = this.deliverDue()
      .catch((err: unknown) =>
        this.logger.warn({ err }, 'back-channel logout round failed; retried on the next poll'),
      )
      .finally(() => {
        this.round = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * Claims due notices a batch at a time and starts their deliveries without waiting for them:
   * one app that holds its answer until the timeout delays nobody else's notice.
   */
  private async deliverDue(): Promise<void> {
    while (!this.closed) {
      const room = Math.min(CLAIM_BATCH, MAX_IN_FLIGHT - this.inFlight.size);
      if (room <= 0) {
        this.full = true; // the next delivery to finish wakes a round
        return;
      }
      const claimed = await this.claim(room);
      for (const row of claimed) {
        const run: Promise<void> = this.settle(row)
          .catch((err: unknown) =>
            this.logger.warn({ err }, 'back-channel logout bookkeeping failed; lease expires'),
          )
          .finally(() => {
            this.inFlight.delete(run);
            if (this.full) {
              this.full = false;
              this.wake();
            }
          });
        this.inFlight.add(run);
      }
      if (claimed.length < room) return;
    }
  }

  /**
   * Due notices of every tenant, claimed: the attempt is counted and the next attempt time is
   * pushed past the lease in the same statement, so another replica neither waits for these
   * rows (SKIP LOCKED) nor finds them due afterwards. Cross-tenant by design: one worker serves
   * every tenant; the table holds only notices not yet delivered.
   */
  private async claim(limit: number): Promise<Claimed[]> {
    const res = await crossTenant(this.dataSource).sql<unknown>(
      'backchannel_logout_claim',
      `UPDATE backchannel_logout_outbox o
          SET attempts = o.attempts + 1,
              next_attempt_at = now() + make_interval(secs => $1)
         FROM (SELECT tenant_id, id FROM backchannel_logout_outbox
                WHERE next_attempt_at <= now()
                ORDER BY next_attempt_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED) due
        WHERE o.tenant_id = due.tenant_id AND o.id = due.id
        RETURNING o.tenant_id, o.id, o.client_id, o.sub, o.sid, o.attempts`,
      [LEASE_SECONDS, limit],
    );
    // TypeORM answers [rows, count] for an UPDATE on PostgreSQL, the rows alone elsewhere.
    const rows = Array.isArray(res) && Array.isArray(res[0]) ? res[0] : res;
    return (Array.isArray(rows) ? rows : []) as Claimed[];
  }

  /** One claimed notice: delivered (row deleted), retried later, or given up. */
  private async settle(row: Claimed): Promise<void> {
    const e: EndedSignIn = {
      tenantId: row.tenant_id,
      clientId: row.client_id,
      sub: row.sub,
      sid: row.sid ?? undefined,
    };
    const failure = await this.deliver(e)
      .then((done) => (done ? undefined : 'the endpoint answered neither 200 nor 204'))
      .catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    const where = { id: row.id };
    if (!failure) {
      await this.outbox.delete(row.tenant_id, where);
      return;
    }
    const log = {
      tenantId: row.tenant_id,
      clientId: row.client_id,
      attempt: row.attempts,
      failure,
    };
    const delay = this.retryDelaysMs[row.attempts - 1];
    if (delay === undefined) {
      await this.outbox.delete(row.tenant_id, where);
      this.metrics.backchannelLogout('dropped');
      this.logger.warn(log, 'back-channel logout not delivered; giving up');
      this.audit.record({
        tenantId: row.tenant_id,
        type: 'logout.backchannel.failure',
        subjectType: 'user',
        subjectId: row.sub,
        details: {
          client_id: row.client_id,
          sid: row.sid,
          attempts: row.attempts,
          last_error: failure.slice(0, 500),
        },
      });
      return;
    }
    this.metrics.backchannelLogout('retry');
    this.logger.warn(log, 'back-channel logout not delivered; will retry');
    await this.outbox.update(row.tenant_id, where, {
      next_attempt_at: new Date(Date.now() + delay),
      last_error: failure.slice(0, 500),
    });
  }

  /** True when done: delivered, or nothing to deliver (no such tenant, client or endpoint). */
  private async deliver(e: EndedSignIn): Promise<boolean> {
    const tp = await this.providers.get(e.tenantId);
    if (!tp) return true;
    const client = (await tp.provider.Client.find(e.clientId)) as
      { backchannelLogoutUri?: string } | undefined;
    const uri = client?.backchannelLogoutUri;
    if (!uri) return true;
    const IdToken = tp.provider.IdToken as unknown as new (
      claims: { sub: string },
      o: { client: unknown; ctx: undefined },
    ) => LogoutTokenModel;
    const token = new IdToken({ sub: e.sub }, { client, ctx: undefined });
    token.mask = { sub: null };
    token.set('events', { [BACKCHANNEL_LOGOUT_EVENT]: {} });
    token.set('jti', randomUUID());
    if (e.sid) token.set('sid', e.sid);
    const logoutToken = await token.issue({ use: 'logout' });
    const status = await guardedFormPost(
      this.outbound,
      uri,
      new URLSearchParams({ logout_token: logoutToken }),
    );
    const delivered = status === 200 || status === 204;
    if (delivered) this.metrics.backchannelLogout('delivered');
    return delivered;
  }

  /**
   * No new rounds; deliveries under way finish (each bounded by its timeout). Notices
   * not yet delivered stay in the outbox for the next start or another replica.
   */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.round;
    await Promise.allSettled(this.inFlight);
  }
}
