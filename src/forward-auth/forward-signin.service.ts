import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ClientsService } from '../clients/clients.service.js';
import { isDomainError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GroupsService } from '../groups/groups.service.js';
import { OidcProviders } from '../oidc/oidc-providers.service.js';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UsersService } from '../users/users.service.js';
import {
  cookieValue,
  FORWARD_COOKIE,
  setCookieHeader,
  sign,
  verify,
  type ForwardSession,
  type Handoff,
} from './forward-cookie.js';
import { normalHost } from './forward-request.js';
import { ForwardAuthService } from './forward-auth.service.js';
import { ForwardAuthRevocations } from './revocations.js';

/** The first-party client forward-auth signs in through, one per tenant, made on first use. */
export const FORWARD_AUTH_CLIENT_ID = 'idp-forward-auth';
/** How long a sign-in may take, from start to callback (seconds). */
const STATE_TTL_S = 900;
const HANDOFF_TTL_S = 60;
/** Where an app host routes to `/<tenant>/forward-auth/` (README: the proxy examples). */
export const HANDOFF_PREFIX = '/_idp';

/** A redirect, with cookies to set; or a refusal with a reason. */
export type SigninStep =
  | { status: 302 | 303 | 307; location: string; setCookie?: string[] }
  | { status: 400 | 403 | 404; reason: string; setCookie?: string[] };

/** The `state` parameter: signed with the tenant's cookie key, marked so no other value passes. */
interface State {
  k: 'state';
  rd: string;
  exp: number;
  n: string;
}

/**
 * Forward-auth sign-in: the module is a relying party of the tenant's own OpenID provider
 * (client `idp-forward-auth`), so every hosted sign-in method, the second factor, the blocker
 * and the audit apply unchanged, and the session made is the one the account page lists.
 * The callback signs a cookie for that session and hands it to the app host through a
 * one-time, host-bound redirect (per-host cookies; a parent domain when the app has one).
 */
@Injectable()
export class ForwardSigninService {
  /** Hand-offs used on this replica (with Redis, every replica's through SET NX). */
  private readonly used = new LRUCache<string, true>({ max: 100_000, ttl: HANDOFF_TTL_S * 1000 });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly forward: ForwardAuthService,
    private readonly providers: OidcProviders,
    private readonly clients: ClientsService,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly sessions: SessionsService,
    private readonly revocations: ForwardAuthRevocations,
    private readonly tenants: TenantsService,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {}

  private base(tenantId: string) {
    return `${this.config.publicUrl}/${tenantId}/forward-auth`;
  }

  private get secure() {
    return this.config.publicUrl.startsWith('https:');
  }

  private async ensureClient(tenantId: string) {
    if (await this.clients.getProviderMetadata(tenantId, FORWARD_AUTH_CLIENT_ID)) return;
    try {
      await this.clients.create(tenantId, {
        client_id: FORWARD_AUTH_CLIENT_ID,
        name: 'Forward-auth',
        client_type: 'public',
        redirect_uris: [`${this.base(tenantId)}/callback`],
        allowed_scopes: ['openid'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
        first_party: true,
      } as never);
    } catch (err) {
      if (!(isDomainError(err) && err.kind === 'conflict')) throw err;
    }
  }

  /**
   * GET start?rd=: off to the tenant's sign-in, coming back to `rd` (a protected app's URL).
   * Served alike on every host (an app host's `/_idp/start` too): the state travels signed in
   * the `state` parameter, not in a cookie of the host the sign-in started on. With an auth
   * host (tenant setting `auth_host`; src/forward-auth/auth-host.ts sends this path there from
   * other hosts) the authorization request goes to that host, where the hosted pages are.
   */
  async start(tenantId: string, rd: unknown): Promise<SigninStep> {
    const index = await this.forward.index(tenantId);
    if (!index) return { status: 404, reason: 'unknown tenant' };
    const safe = index.safeReturn(typeof rd === 'string' ? rd : undefined);
    if (!safe) return { status: 400, reason: 'rd is not a URL of a protected app' };
    await this.ensureClient(tenantId);
    const { auth_host: authHost } = await this.tenants.settings(tenantId);
    const state = sign(this.forward.key(tenantId), {
      k: 'state',
      rd: safe.url,
      exp: Math.floor(Date.now() / 1000) + STATE_TTL_S,
      n: randomBytes(9).toString('base64url'),
    } satisfies State);
    const challenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
    const url = new URL(
      authHost
        ? `${new URL(this.config.publicUrl).protocol}//${authHost}/${tenantId}/authorize`
        : `${this.providers.issuerOf(tenantId)}/authorize`,
    );
    url.search = new URLSearchParams({
      client_id: FORWARD_AUTH_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${this.base(tenantId)}/callback`,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    return { status: 303, location: url.href };
  }

  /** GET callback: back from the sign-in; the provider's session says who it is. */
  async callback(
    tenantId: string,
    query: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<SigninStep> {
    const index = await this.forward.index(tenantId);
    if (!index) return { status: 404, reason: 'unknown tenant' };
    // Not bound to the browser by a cookie, and it need not be: the code is never redeemed,
    // who signed in is read from this browser's own provider session, so a state (or a whole
    // callback URL) from someone else signs nobody in as anyone but themselves.
    const st = verify<State>(
      this.forward.key(tenantId),
      typeof query.state === 'string' ? query.state : undefined,
    );
    if (!st || st.k !== 'state' || st.exp < Date.now() / 1000)
      return { status: 400, reason: 'this sign-in has expired; open the app again' };
    if (typeof query.error === 'string') return { status: 403, reason: query.error };
    const safe = index.safeReturn(st.rd);
    const tenant = await this.providers.get(tenantId);
    if (!safe || !tenant) return { status: 400, reason: 'the app is no longer protected' };
    const app = index.match(safe.req.host, safe.req.uri)!;
    const session = await tenant.provider.Session.get({ req, res, secure: this.secure } as never);
    const user = session.accountId ? await this.users.getEntity(tenantId, session.accountId) : null;
    if (!user || user.is_disabled) return { status: 403, reason: 'not signed in' };
    const groups = await this.groups.groupsOfUser(tenantId, user.user_id);
    const now = Date.now();
    const amr = (session as unknown as { amr?: string[] }).amr ?? [];
    const sessionExp = (session as unknown as { exp?: number }).exp;
    const payload: ForwardSession = {
      t: tenantId,
      sid: session.uid,
      sub: user.user_id,
      usr: user.username,
      em: user.email,
      nm:
        user.display_name ??
        ([user.given_name, user.family_name].filter(Boolean).join(' ') || null),
      gid: groups.map((g) => g.group_id),
      gn: groups.map((g) => g.name),
      mfa: amr.includes('mfa') || new Set(amr).size >= 2,
      iat: now,
      seen: Math.floor(now / 1000),
      exp: Math.floor(Math.min(now / 1000 + app.session_lifetime, sessionExp ?? Infinity)),
    };
    const handoff: Handoff = {
      k: 'handoff',
      host: safe.req.host,
      rd: safe.url,
      c: sign(this.forward.key(tenantId), payload),
      exp: now / 1000 + HANDOFF_TTL_S,
    };
    const token = sign(this.forward.key(tenantId), {
      ...handoff,
      n: randomBytes(12).toString('base64url'),
    });
    const location = `${safe.req.proto}://${safe.req.host}${HANDOFF_PREFIX}/session?token=${encodeURIComponent(token)}`;
    return { status: 303, location };
  }

  /**
   * GET session?token=, reached on the app host (its proxy routes HANDOFF_PREFIX here): sets
   * the cookie on that host (or its parent domain) and goes on to the page first asked for.
   */
  async session(
    tenantId: string,
    token: unknown,
    headers: IncomingMessage['headers'],
  ): Promise<SigninStep> {
    const index = await this.forward.index(tenantId);
    if (!index) return { status: 404, reason: 'unknown tenant' };
    const h = verify<Handoff & { n: string }>(
      this.forward.key(tenantId),
      typeof token === 'string' ? token : undefined,
    );
    if (!h || h.k !== 'handoff' || h.exp < Date.now() / 1000)
      return { status: 400, reason: 'this sign-in link has expired; open the app again' };
    const forwarded = String(headers['x-forwarded-host'] ?? headers.host ?? '')
      .split(',')[0]
      .trim();
    const proto = String(headers['x-forwarded-proto'] ?? 'http')
      .split(',')[0]
      .trim();
    if (normalHost(forwarded, proto) !== h.host)
      return { status: 400, reason: 'this sign-in link is for another host' };
    const safe = index.safeReturn(h.rd);
    if (!safe || safe.req.host !== h.host)
      return { status: 400, reason: 'the app is no longer protected' };
    if (!(await this.firstUse(tenantId, h.n)))
      return { status: 400, reason: 'this sign-in link was already used' };
    const app = index.match(safe.req.host, safe.req.uri)!;
    const s = this.forward.session(tenantId, h.c);
    if (!s) return { status: 400, reason: 'this sign-in has ended' };
    const cookie = setCookieHeader(h.c, {
      secure: safe.req.proto === 'https',
      domain: app.cookie_domain,
      maxAge: s.exp - Date.now() / 1000,
    });
    return { status: 302, location: safe.url, setCookie: [cookie] };
  }

  private async firstUse(tenantId: string, nonce: string): Promise<boolean> {
    const key = `${tenantId}\n${nonce}`;
    if (this.used.has(key)) return false;
    this.used.set(key, true);
    if (!this.redis) return true;
    const set = await this.redis
      .set(`idp:fwd-handoff:${tenantId}:${nonce}`, '1', 'EX', HANDOFF_TTL_S, 'NX')
      .catch(() => 'OK');
    return set === 'OK';
  }

  /** Ends the session the cookie belongs to (the OIDC session too, so every app of it). */
  async logout(tenantId: string, cookieHeader: string | undefined): Promise<boolean> {
    const s = this.forward.session(tenantId, cookieValue(cookieHeader, FORWARD_COOKIE));
    if (!s) return false;
    try {
      // The session's end reaches forward-auth through SessionEvents (module wiring).
      await this.sessions.revoke(tenantId, s.sub, s.sid);
    } catch (err) {
      // Already gone as an OIDC session: void the cookie all the same.
      if (!(isDomainError(err) && err.kind === 'not-found')) throw err;
      await this.revocations.revokeSession(tenantId, s.sid);
    }
    return true;
  }

  /** Clears the cookie on the host (and its parent domain) a request came through. */
  async clearCookies(tenantId: string, headers: IncomingMessage['headers']): Promise<string[]> {
    const proto = String(headers['x-forwarded-proto'] ?? 'http')
      .split(',')[0]
      .trim();
    const host = String(headers['x-forwarded-host'] ?? headers.host ?? '')
      .split(',')[0]
      .trim();
    const app = (await this.forward.index(tenantId))?.match(normalHost(host, proto), '/');
    const secure = proto === 'https';
    return [
      setCookieHeader('', { secure, domain: null, maxAge: 0 }),
      ...(app?.cookie_domain
        ? [setCookieHeader('', { secure, domain: app.cookie_domain, maxAge: 0 })]
        : []),
    ];
  }
}
