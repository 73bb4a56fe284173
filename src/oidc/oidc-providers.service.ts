import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import Provider, {
  type Account,
  type FindAccount,
  type JWK,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TenantEvents } from '../../libs/tenancy/index.js';
import { AuditService } from '../audit/audit.service.js';
import { BlockerService } from '../blocker/blocker.service.js';
import { logFailure, problemFromDatabaseError } from '../common/problem.filter.js';
import type { ProblemException } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GroupsService } from '../groups/groups.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { ClaimsUser } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { reuseClientInstances, tenantAdapterFactory, type ClientSource } from './oidc.adapter.js';
import { OidcPayloadStore } from './oidc-payload.store.js';
import { AlreadyConsumed } from './payload-rules.js';
import { ProviderSecurity } from './oidc-security.js';
import { buildProviderConfiguration, type PolicyClient } from './provider-config.js';
import { brandingOf, type Branding } from '../tenants/branding.js';
import { PROVIDER_PAGES, type ProviderPages } from './provider-pages.port.js';
import { deriveTenantKey } from '../../libs/crypto/index.js';
import { prefetchKey, take } from './request-prefetch.js';
import { attachFrontChannelLogout } from './front-channel-logout.js';

export const CLIENT_SOURCE = Symbol('OIDC_CLIENT_SOURCE');
export const KEY_SOURCE = Symbol('OIDC_KEY_SOURCE');

/** Where a tenant's signing keys come from (private JWKs, the active ones first). */
export interface KeySource {
  providerJwks(tenantId: string): Promise<{ keys: JWK[] }>;
}

/** One client's sign-in within a session that ended. */
export interface EndedSignIn {
  tenantId: string;
  clientId: string;
  /** The account (the ID tokens' sub). */
  sub: string;
  sid?: string;
}

export interface TenantProvider {
  tenantId: string;
  issuer: string;
  provider: Provider;
  /** The provider as a Node request handler, composed once. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  branding: Branding;
}

function grantType(ctx: KoaContextWithOIDC): string {
  return String((ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type ?? 'unknown');
}

type Koa = Provider & { request: object; proxy: boolean };

/** A session ended by RP-initiated logout. */
export interface ProviderLogout {
  tenantId: string;
  accountId: string;
  uid: string;
}

/**
 * One oidc-provider instance per tenant, built on demand and kept in an LRU of promises (so
 * concurrent first requests share one build), bounded by PROVIDER_CACHE_SIZE rather than by
 * the number of tenants. A tenant change or deletion drops its entry on every replica
 * (TenantEvents relays across them).
 */
/** A timestamp column as OIDC seconds; raw reads may hand back a string instead of a Date. */
function epochSeconds(value: Date | string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** Provider requests whose server_error was the database being unreachable. */
const unavailableRequests = new WeakMap<object, ProblemException>();

/**
 * A provider request the database could not serve: 503 with Retry-After, in the OAuth error
 * format (RFC 6749 temporarily_unavailable) for the JSON endpoints; a page keeps its body.
 */
function answerUnavailable(
  ctx: {
    response: { headers: object; type: string };
    remove(name: string): void;
    set(name: string, value: string): void;
    status: number;
    body: unknown;
  },
  problem: ProblemException,
) {
  const page = ctx.response.type.includes('html');
  if (!page) for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
  ctx.status = 503;
  ctx.set('cache-control', 'no-store');
  for (const [name, value] of Object.entries(problem.headers ?? {})) ctx.set(name, value);
  if (!page)
    ctx.body = {
      error: 'temporarily_unavailable',
      error_description: problem.detail ?? problem.title,
    };
}

@Injectable()
export class OidcProviders {
  private readonly logger = new Logger('OidcProviders');
  private readonly cache: LRUCache<string, Promise<TenantProvider>>;
  private readonly security: ProviderSecurity;
  private readonly endedListeners = new Set<(e: EndedSignIn) => Promise<void> | void>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly store: OidcPayloadStore,
    @Inject(CLIENT_SOURCE) private readonly clients: ClientSource,
    @Inject(KEY_SOURCE) private readonly keys: KeySource,
    @Inject(PROVIDER_PAGES) private readonly pages: ProviderPages,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly metrics: MetricsService,
    tenantEvents: TenantEvents,
    audit: AuditService,
    blocker: BlockerService,
  ) {
    this.security = new ProviderSecurity(audit, blocker);
    this.cache = new LRUCache({ max: config.providerCacheSize });
    metrics.resident('providers', () => this.cache.size);
    tenantEvents.subscribe((e) => this.invalidate(e.tenantId));
  }

  /** Sign-ins the provider itself ended (RP-initiated logout), for Back-Channel Logout. */
  onSignInEnded(listener: (e: EndedSignIn) => Promise<void> | void): void {
    this.endedListeners.add(listener);
  }

  private readonly logoutListeners = new Set<(e: ProviderLogout) => Promise<void> | void>();

  /** RP-initiated logouts (`/<t>/logout`), for what keeps its own view of sessions (forward-auth). */
  onLogout(listener: (e: ProviderLogout) => Promise<void> | void) {
    this.logoutListeners.add(listener);
  }

  issuerOf(tenantId: string): string {
    return `${this.config.publicUrl}/${tenantId}`;
  }

  /** The tenant's provider, or undefined for a tenant that does not exist. */
  async get(tenantId: string): Promise<TenantProvider | undefined> {
    const cached = this.cache.get(tenantId);
    if (cached) {
      this.metrics.providerCacheHit();
      return cached;
    }
    // TenantsService caches unknown ids briefly, so probing random paths stays cheap.
    if (!(await this.tenants.exists(tenantId))) return undefined;
    let pending = this.cache.get(tenantId);
    if (!pending) {
      this.metrics.providerCacheMiss();
      pending = this.build(tenantId);
      this.cache.set(tenantId, pending);
      pending.catch(() => {
        if (this.cache.get(tenantId) === pending) this.cache.delete(tenantId);
      });
    }
    return pending;
  }

  invalidate(tenantId: string) {
    this.cache.delete(tenantId);
  }

  /** How many providers are resident (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  private async build(tenantId: string): Promise<TenantProvider> {
    const issuer = this.issuerOf(tenantId);
    const [settings, jwks] = await Promise.all([
      this.tenants.settings(tenantId),
      this.keys.providerJwks(tenantId),
    ]);
    const clients = this.security.guardClients(this.clients);
    const configuration = buildProviderConfiguration({
      tenantId,
      issuer,
      settings,
      jwks,
      cookieKeys: [
        deriveTenantKey(this.config.masterKey, { tenantId, purpose: 'oidc-cookies' }).toString(
          'base64url',
        ),
      ],
      adapter: tenantAdapterFactory(tenantId, this.store, clients),
      findAccount: this.findAccount(tenantId),
      mayUseClient: (accountId, client) => this.mayUseClient(tenantId, accountId, client),
      previousGrant: (accountId, clientId) => this.store.latestGrant(tenantId, accountId, clientId),
      outbound: { allowPrivate: this.config.outboundAllowPrivate },
      pages: this.pages,
    });
    const provider = new Provider(issuer, configuration) as Koa;
    provider.proxy = Boolean(this.config.trustProxy);
    this.pinOrigin(provider);
    reuseClientInstances(provider as unknown as Provider, tenantId, clients);
    this.writeOnce(provider, tenantId);
    this.propagateLogout(provider, tenantId, issuer, settings);
    this.security.attach(provider, tenantId);
    provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc?.session as { uid?: string; accountId?: string } | undefined;
      if (!session?.uid || !session.accountId) return;
      const e = { tenantId, accountId: session.accountId, uid: session.uid };
      for (const l of this.logoutListeners)
        Promise.resolve(l(e)).catch((err: unknown) =>
          this.logger.warn({ err, tenantId }, 'logout listener failed'),
        );
    });
    provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
      // The database unreachable (an outage, a failover): an expected state, answered 503 by
      // writeOnce below, with one warning per outage instead of an error per request.
      const unavailable = this.unavailable(ctx, err);
      if (unavailable) return void unavailableRequests.set(ctx, unavailable);
      this.logger.error({ err, tenantId }, 'OIDC server error');
    });
    provider.on('grant.success', (ctx: KoaContextWithOIDC) =>
      this.metrics.tokenIssued(grantType(ctx), 'success'),
    );
    provider.on('grant.error', (ctx: KoaContextWithOIDC) =>
      this.metrics.tokenIssued(grantType(ctx), 'failure'),
    );
    return {
      tenantId,
      issuer,
      provider,
      handle: provider.callback() as TenantProvider['handle'],
      branding: brandingOf(tenantId, settings),
    };
  }

  /**
   * Logout propagation (decision note 0026): the provider's own Back-Channel Logout send, which
   * it awaits inside the logout request, becomes a hand-off to LogoutPropagation (background,
   * retried); ID tokens carry sid for clients with a logout URI; the logout confirmation renders
   * the front-channel iframes.
   */
  private propagateLogout(
    provider: Koa,
    tenantId: string,
    issuer: string,
    settings: Parameters<typeof brandingOf>[1],
  ) {
    const listeners = this.endedListeners;
    type LogoutClient = PolicyClient & {
      backchannelLogoutUri?: string;
      backchannelLogout(sub: string, sid?: string): Promise<void>;
      includeSid(): boolean;
    };
    const proto = provider.Client.prototype as unknown as LogoutClient;
    proto.backchannelLogout = async function (sub, sid) {
      // The listener stores the notice (answering before it is delivered), so the logout that
      // asked for it does not end before it is durable.
      for (const l of listeners) await l({ tenantId, clientId: this.clientId, sub, sid });
    };
    proto.includeSid = function () {
      return Boolean(this.backchannelLogoutUri || this.frontchannel_logout_uri);
    };
    attachFrontChannelLogout(provider, {
      issuer,
      // The mount hands the provider paths without the tenant prefix (oidc.mount.ts).
      confirmPath: '/logout/confirm',
      cookie: { signed: true },
      pages: this.pages,
      branding: brandingOf(tenantId, settings),
    });
  }

  /**
   * What a provider request writes is applied in one call when the request is done, before its
   * answer leaves (OidcPayloadStore.beginRequest). If that fails, the answer becomes a
   * server_error: tokens or codes that were not saved are never handed out.
   */
  private writeOnce(provider: Koa, tenantId: string) {
    provider.use(async (ctx, next) => {
      this.store.beginRequest(ctx, tenantId);
      let failure: unknown;
      try {
        await next();
      } catch (err) {
        failure = err;
      }
      try {
        await this.store.endRequest(ctx);
      } catch (err) {
        if (err instanceof AlreadyConsumed)
          return this.lostRace(provider, ctx as KoaContextWithOIDC, tenantId, err);
        const unavailable = this.unavailable(ctx, err);
        if (unavailable) return answerUnavailable(ctx, unavailable);
        this.logger.error({ err, tenantId }, 'could not save what an OIDC request wrote');
        for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
        ctx.status = 500;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
        return;
      }
      if (failure) {
        const unavailable = this.unavailable(ctx, failure);
        if (unavailable) return answerUnavailable(ctx, unavailable);
        throw failure;
      }
      // oidc-provider answered a database failure as its own server_error (500): make it 503.
      const unavailable = unavailableRequests.get(ctx);
      if (unavailable && ctx.status === 500) answerUnavailable(ctx, unavailable);
    });
  }

  /** The 503 problem for a database that cannot be reached (warned once per outage), or undefined. */
  private unavailable(ctx: { req?: unknown }, err: unknown): ProblemException | undefined {
    const problem = problemFromDatabaseError(err);
    if (problem?.code !== 'unavailable') return undefined;
    logFailure(this.logger, err, problem, (ctx.req as { id?: unknown } | undefined)?.id);
    return problem;
  }

  /**
   * Another request redeemed the same code, refresh token or device code first: a reuse like
   * a sequential one (oidc-provider's own check only sees what it read before), so the grant is
   * revoked with everything issued from it, the winner's tokens included, and the answer is
   * invalid_grant. Nothing this request prepared was stored.
   */
  private async lostRace(
    provider: Koa,
    ctx: KoaContextWithOIDC,
    tenantId: string,
    err: AlreadyConsumed,
  ) {
    const grantId = await this.store.revokeGrantOf(tenantId, err.model, err.id);
    if (grantId) provider.emit('grant.revoked', ctx, grantId);
    for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
    ctx.status = 400;
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: err.error, error_description: err.error_description };
  }

  /**
   * Every URL the provider writes (discovery, redirects, cookie paths) is built from PUBLIC_URL,
   * never from the Host or X-Forwarded-* headers of the request. The client address is set by
   * the mount (oidc.mount.ts) with Fastify's TRUST_PROXY rule (a list of proxies, which Koa cannot
   * express).
   */
  private pinOrigin(provider: Koa) {
    const url = new URL(this.config.publicUrl);
    const protocol = url.protocol.replace(/:$/, '');
    Object.defineProperties(provider.request, {
      protocol: { get: () => protocol, configurable: true },
      host: { get: () => url.host, configurable: true },
      hostname: { get: () => url.hostname, configurable: true },
      ip: {
        get(this: { req: IncomingMessage & { ip?: string } }) {
          return this.req.ip ?? this.req.socket.remoteAddress ?? '';
        },
        configurable: true,
      },
    });
  }

  private findAccount(tenantId: string): FindAccount {
    // oidc-provider asks for the same account more than once per request (token, then claims):
    // one directory read per request is enough.
    const perRequest = new WeakMap<object, Map<string, Promise<Account | undefined>>>();
    return (ctx, sub) => {
      let memo = perRequest.get(ctx);
      if (!memo) perRequest.set(ctx, (memo = new Map()));
      let account = memo.get(sub);
      if (!account) memo.set(sub, (account = this.loadAccount(tenantId, sub)));
      return account;
    };
  }

  private async loadAccount(tenantId: string, sub: string): Promise<Account | undefined> {
    // A token's user was usually read with the token itself (OidcPayloadStore.find).
    const kept = take<ClaimsUser>(prefetchKey.account(sub));
    const user = kept.found ? kept.value : await this.users.getEntity(tenantId, sub);
    if (!user || user.is_disabled) return undefined;
    return {
      accountId: user.user_id,
      claims: async (_use, scope) => this.claimsOf(tenantId, user, scope),
    };
  }

  /** Every claim the user has; oidc-provider keeps those the granted scopes and claims allow. */
  private async claimsOf(tenantId: string, user: ClaimsUser, scope: string) {
    const scopes = new Set(scope.split(' '));
    const fullName = [user.given_name, user.family_name].filter(Boolean).join(' ');
    return {
      sub: user.user_id,
      tenant_id: tenantId,
      name: user.display_name ?? (fullName || user.username),
      preferred_username: user.username,
      given_name: user.given_name ?? undefined,
      family_name: user.family_name ?? undefined,
      locale: user.locale ?? undefined,
      // Seconds since the epoch (OIDC Core 5.1); created_at is the seed's, beside updated_at.
      created_at: epochSeconds(user.created_at),
      updated_at: epochSeconds(user.updated_at),
      picture: user.picture ?? undefined,
      email: user.email ?? undefined,
      email_verified: user.email ? user.is_verified : undefined,
      roles: user.roles ?? [],
      // One query, only when the groups scope is in play.
      groups: scopes.has('groups')
        ? (await this.groups.groupsOfUser(tenantId, user.user_id)).map((g) => g.name)
        : undefined,
    };
  }

  async mayUseClient(tenantId: string, accountId: string, client: PolicyClient): Promise<boolean> {
    if (!client.is_group_restricted) return true;
    const [allowed, groups] = await Promise.all([
      this.groups.allowedGroupIdsForClient(tenantId, client.clientId),
      this.groups.groupsOfUser(tenantId, accountId),
    ]);
    const allowedIds = new Set(allowed);
    return groups.some((g) => allowedIds.has(g.group_id));
  }
}
