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
  private readonly verified = new LRUCache<string, ForwardSession>({ max: 20_000 });
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

  async index(tenantId: string): Promise<AppIndex | undefined> {
    if (!isValidTenantId(tenantId)) return undefined;
    return this.apps.index(tenantId);
  }

  signinUrl(tenantId: string, returnTo: string): string {
    return `${this.config.publicUrl}/${tenantId}/forward-auth/start?rd=${encodeURIComponent(returnTo)}`;
  }

  /** The session a cookie value stands for, when it is genuine, this tenant's, live and not revoked. */
  session(tenantId: string, value: string | undefined, nowS = Date.now() / 1000) {
    if (!value) return undefined;
    // A cookie seen before skips the HMAC and JSON parse; only verified cookies are kept.
    const cacheKey = `${tenantId}\n${value}`;
    let p: ForwardSession | undefined = this.verified.get(cacheKey);
    if (!p) {
      const parsed = verify<Partial<ForwardSession>>(this.key(tenantId), value);
      if (!wellFormed(parsed, tenantId)) return undefined;
      p = parsed;
      this.verified.set(cacheKey, p);
    }
    if (p.exp <= nowS || this.revocations.isRevoked(p)) return undefined;
    return p;
  }

  /**
   * The check. `returnTo` overrides the URL derived from the forwarded headers (vouch's
   * `continue`); it must be a URL of one of the tenant's protected apps.
   */
  async check(tenantId: string, headers: Headers, returnTo?: string): Promise<CheckOutcome> {
    const index = await this.index(tenantId);
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
    const signin =
      req.method === 'GET' || req.method === 'HEAD'
        ? this.signinUrl(tenantId, `${req.proto}://${req.host}${req.uri}`)
        : this.signinUrl(tenantId, `${req.proto}://${req.host}${app.path_prefix}`);
    const now = Date.now() / 1000;
    const s = this.session(tenantId, cookie, now);
    if (!s)
      return { kind: 'unauthenticated', signin, reason: cookie ? 'invalid_session' : 'no_session' };
    if (now >= s.iat / 1000 + app.session_lifetime)
      return { kind: 'unauthenticated', signin, reason: 'session_expired' };
    if (app.idle_timeout !== null && now >= s.seen + app.idle_timeout)
      return { kind: 'unauthenticated', signin, reason: 'idle_timeout' };
    if (app.allowed_group_ids.length && !s.gid.some((g) => app.allowed_group_ids.includes(g)))
      return { kind: 'forbidden', reason: 'group_not_allowed' };
    if (app.require_2fa && !s.mfa) return { kind: 'forbidden', reason: 'second_factor_required' };
    const out: Record<string, string> = this.identityHeaders(app, s);
    if (app.jwt_header) out.authorization = `Bearer ${await this.jwt(tenantId, app, s, now)}`;
    let setCookie: string | undefined;
    if (app.idle_timeout !== null && now - s.seen > RENEW_AFTER_S) {
      const renewed = { ...s, seen: Math.floor(now) };
      setCookie = setCookieHeader(sign(this.key(tenantId), renewed), {
        secure: req.proto === 'https',
        domain: app.cookie_domain,
        maxAge: s.exp - now,
      });
    }
    return { kind: 'allowed', headers: out, setCookie };
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
