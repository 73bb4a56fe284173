import { Inject, Injectable } from '@nestjs/common';
import { importJWK, SignJWT, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { deriveTenantKey } from '../../libs/crypto/index.js';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import {
  cookieValue,
  FORWARD_COOKIE,
  setCookieHeader,
  sign,
  verify,
  type ForwardSession,
} from './forward-cookie.js';
import { originalRequest, type AppIndex, type OriginalRequest } from './forward-request.js';
import type { ProtectedAppEntity } from './protected-app.entity.js';
import { ProtectedAppsService } from './protected-apps.service.js';
import { ForwardAuthRevocations } from './revocations.js';

type Headers = Record<string, string | string[] | undefined>;

/** What a check found; the controller turns it into each proxy convention's answer. */
export type CheckOutcome =
  | { kind: 'allowed'; headers: Record<string, string>; setCookie?: string }
  /** No (valid) cookie: sign in at `signin`. */
  | { kind: 'unauthenticated'; signin: string | undefined; reason: string }
  | { kind: 'forbidden'; reason: string }
  /** The proxy sent no usable X-Original-URL / X-Forwarded-Host. */
  | { kind: 'bad-request'; reason: string }
  | { kind: 'no-tenant' };

/** Renew the cookie's `seen` (idle timeout) at most this often, in seconds. */
const RENEW_AFTER_S = 60;
const JWT_LIFETIME_S = 60;

const DEFAULT_HEADERS = {
  user: 'Remote-User',
  email: 'Remote-Email',
  name: 'Remote-Name',
  groups: 'Remote-Groups',
  id: 'Remote-Id',
};

function wellFormed(p: Partial<ForwardSession> | undefined, tenantId: string): p is ForwardSession {
  return (
    !!p &&
    p.t === tenantId &&
    typeof p.sid === 'string' &&
    typeof p.sub === 'string' &&
    typeof p.usr === 'string' &&
    typeof p.iat === 'number' &&
    typeof p.seen === 'number' &&
    typeof p.exp === 'number' &&
    Array.isArray(p.gid) &&
    Array.isArray(p.gn)
  );
}

/**
 * The reverse-proxy check: is this request signed in for the app it is for, and who is it.
 * Reads no database on the hot path: the app index and revocations are in memory, the cookie
 * is verified with the tenant's derived HMAC key (docs/decisions/0020-forward-auth.md).
 */
@Injectable()
export class ForwardAuthService {
  private readonly keys = new Map<string, Buffer>();
  /**
   * Verified cookies by their MAC (short to hash; the whole value is compared on a hit), so a
   * repeat skips the HMAC and JSON parse.
   */
  private readonly verified = new LRUCache<string, { value: string; p: ForwardSession }>({
    max: 20_000,
  });
  /** Identity headers per (app row, session), built once: both objects are immutable. */
  private readonly identities = new WeakMap<
    ProtectedAppEntity,
    WeakMap<ForwardSession, Record<string, string>>
  >();
  private readonly jwts = new LRUCache<string, { jwt: string; until: number }>({ max: 50_000 });
  private readonly signers = new LRUCache<
    string,
    Promise<{ kid?: string; alg: string; key: Awaited<ReturnType<typeof importJWK>> }>
  >({
    max: 1_000,
    ttl: 300_000,
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly apps: ProtectedAppsService,
    private readonly revocations: ForwardAuthRevocations,
    private readonly signingKeys: SigningKeysService,
  ) {}

  /** The tenant's cookie key (HKDF of the master key), derived once per tenant. */
  key(tenantId: string): Buffer {
    let key = this.keys.get(tenantId);
    if (!key) {
      key = deriveTenantKey(this.config.masterKey, { tenantId, purpose: 'forward-auth-cookies' });
      if (this.keys.size > 100_000) this.keys.clear();
      this.keys.set(tenantId, key);
    }
    return key;
  }

  /** The tenant's app index: synchronous once loaded (the check's common case). */
  index(tenantId: string): Promise<AppIndex | undefined> | AppIndex | undefined {
    if (!isValidTenantId(tenantId)) return undefined;
    return this.apps.index(tenantId);
  }

  signinUrl(tenantId: string, returnTo: string): string {
    return `${this.config.publicUrl}/${tenantId}/forward-auth/start?rd=${encodeURIComponent(returnTo)}`;
  }

  /** The session a cookie value stands for, when it is genuine, this tenant's, live and not revoked. */
  session(tenantId: string, value: string | undefined, nowS = Date.now() / 1000) {
    if (!value) return undefined;
    // A cookie seen before skips the HMAC and JSON parse; only verified cookies are kept. A
    // value verifies for one tenant only (its key and its `t`), hence the tenant comparison.
    const mac = value.slice(value.lastIndexOf('.') + 1);
    const hit = this.verified.get(mac);
    let p: ForwardSession;
    if (hit && hit.value === value) {
      if (hit.p.t !== tenantId) return undefined;
      p = hit.p;
    } else {
      const parsed = verify<Partial<ForwardSession>>(this.key(tenantId), value);
      if (!wellFormed(parsed, tenantId)) return undefined;
      p = parsed;
      this.verified.set(mac, { value, p });
    }
    if (p.exp <= nowS || this.revocations.isRevoked(p)) return undefined;
    return p;
  }

  /**
   * The check. `returnTo` overrides the URL derived from the forwarded headers (vouch's
   * `continue`); it must be a URL of one of the tenant's protected apps. Synchronous when the
   * tenant's index is loaded and the app wants no JWT (no promise on the hot path).
   */
  check(
    tenantId: string,
    headers: Headers,
    returnTo?: string,
  ): CheckOutcome | Promise<CheckOutcome> {
    const index = this.index(tenantId);
    if (index instanceof Promise)
      return index.then((i) => this.checkIn(i, tenantId, headers, returnTo));
    return this.checkIn(index, tenantId, headers, returnTo);
  }

  private checkIn(
    index: AppIndex | undefined,
    tenantId: string,
    headers: Headers,
    returnTo: string | undefined,
  ): CheckOutcome | Promise<CheckOutcome> {
    if (!index) return { kind: 'no-tenant' };
    let req: OriginalRequest | undefined;
    if (returnTo !== undefined) {
      const safe = index.safeReturn(returnTo);
      if (!safe) return { kind: 'bad-request', reason: 'continue is not a URL of a protected app' };
      req = safe.req;
    } else req = originalRequest(headers);
    if (!req)
      return {
        kind: 'bad-request',
        reason: 'the proxy sent neither X-Original-URL nor X-Forwarded-Host',
      };
    const app = index.match(req.host, req.uri);
    if (!app) return { kind: 'forbidden', reason: 'not_protected' };
    const cookie = cookieValue(
      Array.isArray(headers.cookie) ? headers.cookie.join('; ') : headers.cookie,
      FORWARD_COOKIE,
    );
    const now = Date.now() / 1000;
    const s = this.session(tenantId, cookie, now);
    // The sign-in URL only when the answer needs it.
    const refuse = (reason: string): CheckOutcome => ({
      kind: 'unauthenticated',
      reason,
      signin:
        req.method === 'GET' || req.method === 'HEAD'
          ? this.signinUrl(tenantId, `${req.proto}://${req.host}${req.uri}`)
          : this.signinUrl(tenantId, `${req.proto}://${req.host}${app.path_prefix}`),
    });
    if (!s) return refuse(cookie ? 'invalid_session' : 'no_session');
    if (now >= s.iat / 1000 + app.session_lifetime) return refuse('session_expired');
    if (app.idle_timeout !== null && now >= s.seen + app.idle_timeout)
      return refuse('idle_timeout');
    if (app.allowed_group_ids.length && !s.gid.some((g) => app.allowed_group_ids.includes(g)))
      return { kind: 'forbidden', reason: 'group_not_allowed' };
    if (app.require_2fa && !s.mfa) return { kind: 'forbidden', reason: 'second_factor_required' };
    let setCookie: string | undefined;
    if (app.idle_timeout !== null && now - s.seen > RENEW_AFTER_S) {
      const renewed = { ...s, seen: Math.floor(now) };
      setCookie = setCookieHeader(sign(this.key(tenantId), renewed), {
        secure: req.proto === 'https',
        domain: app.cookie_domain,
        maxAge: s.exp - now,
      });
    }
    const identity = this.cachedIdentity(app, s);
    if (!app.jwt_header) return { kind: 'allowed', headers: identity, setCookie };
    return this.jwt(tenantId, app, s, now).then((jwt) => ({
      kind: 'allowed' as const,
      headers: { ...identity, authorization: `Bearer ${jwt}` },
      setCookie,
    }));
  }

  private cachedIdentity(app: ProtectedAppEntity, s: ForwardSession): Record<string, string> {
    let perApp = this.identities.get(app);
    if (!perApp) this.identities.set(app, (perApp = new WeakMap()));
    let out = perApp.get(s);
    if (!out) perApp.set(s, (out = Object.freeze(this.identityHeaders(app, s))));
    return out;
  }

  /**
   * PassKey Auth's validate: the cookie's session, renewed (its idle clock restarted) when
   * due. Undefined when there is no valid session.
   */
  validate(tenantId: string, headers: Headers) {
    const cookie = cookieValue(
      Array.isArray(headers.cookie) ? headers.cookie.join('; ') : headers.cookie,
      FORWARD_COOKIE,
    );
    const now = Date.now() / 1000;
    const s = this.session(tenantId, cookie, now);
    if (!s) return undefined;
    const renewed = now - s.seen > RENEW_AFTER_S;
    const proto = String(headers['x-forwarded-proto'] ?? 'http')
      .split(',')[0]
      .trim();
    return {
      body: {
        valid: true,
        renewed,
        user_id: s.sub,
        username: s.usr,
        email: s.em,
        name: s.nm,
        groups: s.gn,
        session_id: s.sid,
        expires_at: new Date(s.exp * 1000).toISOString(),
      },
      setCookie: renewed
        ? setCookieHeader(sign(this.key(tenantId), { ...s, seen: Math.floor(now) }), {
            secure: proto === 'https',
            domain: null,
            maxAge: s.exp - now,
          })
        : undefined,
    };
  }

  identityHeaders(app: ProtectedAppEntity | undefined, s: ForwardSession): Record<string, string> {
    const names = { ...DEFAULT_HEADERS, ...app?.headers };
    const out: Record<string, string> = {
      [names.user]: s.usr,
      [names.id]: s.sub,
      [names.groups]: s.gn.join(','),
    };
    if (s.em) out[names.email] = s.em;
    if (s.nm) out[names.name] = s.nm;
    return out;
  }

  /** A short-lived JWT for apps that verify tokens (signed with the tenant's RS256 key), reused while fresh. */
  private async jwt(tenantId: string, app: ProtectedAppEntity, s: ForwardSession, now: number) {
    const cacheKey = `${tenantId}\n${app.app_id}\n${s.sid}\n${s.iat}`;
    const cached = this.jwts.get(cacheKey);
    if (cached && cached.until > now) return cached.jwt;
    let signer = this.signers.get(tenantId);
    if (!signer) {
      signer = this.signingKeys.providerJwks(tenantId).then(async ({ keys }) => {
        const jwk = (keys.find((k) => k.alg === 'RS256') ?? keys[0]) as JWK & { alg: string };
        return { kid: jwk.kid, alg: jwk.alg, key: await importJWK(jwk, jwk.alg) };
      });
      this.signers.set(tenantId, signer);
      signer.catch(() => this.signers.delete(tenantId));
    }
    const { kid, alg, key } = await signer;
    const iat = Math.floor(now);
    const jwt = await new SignJWT({
      preferred_username: s.usr,
      email: s.em ?? undefined,
      name: s.nm ?? undefined,
      groups: s.gn,
      sid: s.sid,
    })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(`${this.config.publicUrl}/${tenantId}`)
      .setSubject(s.sub)
      .setAudience(app.app_id)
      .setIssuedAt(iat)
      .setExpirationTime(Math.min(iat + JWT_LIFETIME_S, Math.floor(s.exp)))
      .sign(key);
    this.jwts.set(cacheKey, { jwt, until: iat + JWT_LIFETIME_S / 2 });
    return jwt;
  }
}
