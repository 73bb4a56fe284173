import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { guardedFormPost, type OutboundPolicy } from '../common/outbound-url.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserEvents } from '../users/user-events.js';
import { OidcPayloadStore } from './oidc-payload.store.js';
import { OidcProviders, type EndedSignIn } from './oidc-providers.service.js';
import { OidcSessions, type StoredSession } from './oidc-sessions.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Waits before the second, third, ... attempt; then the notice is dropped (and logged). */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000];

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

/**
 * OpenID Connect Back-Channel Logout 1.0 (decision note 0026). Every way a session ends hands
 * its client sign-ins here: RP-initiated logout (through the provider, see
 * OidcProviders.propagateLogout), one session or all of them revoked (sessions module), a user
 * disabled, deleted or given a new password. Each client with a backchannel_logout_uri gets a
 * logout token signed with the tenant's key in the client's ID-token algorithm, POSTed through
 * the SSRF-guarded fetch, in the background: the user's logout never waits for an app. A failed
 * or unanswered delivery (2.5 s idle timeout) is tried again after RETRY_DELAYS_MS.
 */
@Injectable()
export class LogoutPropagation implements OnApplicationShutdown {
  private readonly logger = new Logger('LogoutPropagation');
  private readonly outbound: OutboundPolicy;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly sessions: OidcSessions,
    private readonly store: OidcPayloadStore,
    private readonly metrics: MetricsService,
    userEvents: UserEvents,
  ) {
    this.outbound = { allowPrivate: config.outboundAllowPrivate };
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
   * Ends every session of an account with every grant and token, and tells the apps. The
   * sessions are read first: afterwards nothing records which apps they had signed in to.
   */
  async endAccount(tenantId: string, accountId: string): Promise<number> {
    const sessions = await this.sessions.ofAccount(tenantId, accountId);
    await this.store.revokeAccount(tenantId, accountId);
    this.sessionsEnded(tenantId, sessions);
    return sessions.length;
  }

  /** Sessions that ended outside the provider (revoked by the user or an admin). */
  sessionsEnded(tenantId: string, sessions: StoredSession[]): void {
    for (const session of sessions) {
      const p = session.payload as SessionPayload;
      if (typeof p.accountId !== 'string') continue;
      for (const [clientId, a] of Object.entries(p.authorizations ?? {})) {
        this.notify({ tenantId, clientId, sub: p.accountId, sid: a?.sid });
      }
    }
  }

  /** Queues one client's notice; returns at once. */
  notify(e: EndedSignIn): void {
    this.attempt(e, 0);
  }

  private attempt(e: EndedSignIn, n: number): void {
    if (this.closed) return;
    const run = this.deliver(e)
      .then((done) => (done ? undefined : 'the endpoint answered neither 200 nor 204'))
      .catch((err: unknown) => (err instanceof Error ? err.message : String(err)))
      .then((failure) => {
        if (!failure) return;
        const delay = RETRY_DELAYS_MS[n];
        const log = { tenantId: e.tenantId, clientId: e.clientId, attempt: n + 1, failure };
        if (delay === undefined || this.closed) {
          this.metrics.backchannelLogout('dropped');
          this.logger.warn(log, 'back-channel logout not delivered; giving up');
          return;
        }
        this.metrics.backchannelLogout('retry');
        this.logger.warn(log, 'back-channel logout not delivered; will retry');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.attempt(e, n + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      })
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
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

  /** Pending retries are dropped; deliveries under way get their (bounded) time to finish. */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled(this.inFlight);
  }
}
