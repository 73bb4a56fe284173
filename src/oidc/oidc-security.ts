import { Logger } from '@nestjs/common';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEventInput, AuditService } from '../audit/audit.service.js';
import type { BlockCheck, BlockerService } from '../blocker/blocker.service.js';
import type { ClientSource } from './oidc.adapter.js';

/** Endpoints where a client proves itself with a credential (a secret or an assertion). */
const CLIENT_AUTH_ROUTES = new Set([
  'token',
  'introspection',
  'revocation',
  'pushed_authorization_request',
  'device_authorization',
]);

/** A refused attempt from a blocked client or address: RFC 6749-style error with status 429. */
export class TooManyClientAttempts extends errors.OIDCProviderError {
  constructor() {
    super(429, 'too_many_requests');
    this.error_description = 'too many failed attempts; try again later';
    this.allow_redirect = false;
  }
}

type Ctx = KoaContextWithOIDC;

/** ctx.oidc exists only on requests a provider route matched. */
function oidcOf(ctx: Ctx): Ctx['oidc'] | undefined {
  try {
    return (ctx as { oidc?: Ctx['oidc'] }).oidc;
  } catch {
    return undefined;
  }
}

/** The client id a failed authentication named: the resolved client, the body or Basic auth. */
function attemptedClientId(ctx: Ctx): string | null {
  const oidc = oidcOf(ctx);
  const known = oidc?.client?.clientId;
  if (known) return known;
  const param = (oidc?.params as { client_id?: unknown } | undefined)?.client_id;
  if (typeof param === 'string' && param) return param;
  const auth = ctx.get('authorization');
  const m = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return null;
  try {
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'));
  } catch {
    return null;
  }
}

function userAgentOf(ctx: Ctx): string | null {
  return ctx.get('user-agent') || null;
}

/**
 * Brute-force protection and audit events of one tenant's provider:
 * - client authentication at the token, introspection, revocation, PAR and device endpoints
 *   is refused with 429 + Retry-After while the client id or the address is blocked (checked
 *   when the provider looks the client up, so before any secret is compared), failures count
 *   per IP and per client id, and a success forgives the client id's failures;
 * - events: client_auth.failure, token.revoked, consent.granted, logout.success and
 *   token.refresh_reuse_detected / token.code_reuse_detected.
 * An OAuth client is neither a user nor an API key: its events have actor_type `system` with
 * the client id as actor_id.
 */
export class ProviderSecurity {
  private readonly logger = new Logger('OidcSecurity');
  /** Requests whose authenticating client was already checked (later lookups are other clients). */
  private readonly checked = new WeakMap<object, BlockCheck>();

  constructor(
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
  ) {}

  /** Wraps the client source: the first client lookup of a client-auth request is the guard. */
  guardClients(clients: ClientSource): ClientSource {
    return {
      getProviderMetadata: (tenantId, clientId) => {
        const ctx = Provider.ctx;
        if (!ctx || this.checked.has(ctx)) return clients.getProviderMetadata(tenantId, clientId);
        const route = oidcOf(ctx)?.route;
        if (!route || !CLIENT_AUTH_ROUTES.has(route))
          return clients.getProviderMetadata(tenantId, clientId);
        // Client ids are their own blocker namespace: no typed login can reach them.
        const who = { ip: ctx.ip, clientId };
        // Almost always answered on the spot (nothing counted for this client or address).
        const known = this.blocker.checkNow(tenantId, who);
        if (known && !known.blocked) {
          this.checked.set(ctx, known);
          return clients.getProviderMetadata(tenantId, clientId);
        }
        return this.guardedLookup(ctx, known ?? this.blocker.check(tenantId, who), () =>
          clients.getProviderMetadata(tenantId, clientId),
        );
      },
    };
  }

  private async guardedLookup<T>(
    ctx: Ctx,
    pending: BlockCheck | Promise<BlockCheck>,
    lookup: () => Promise<T>,
  ): Promise<T> {
    const check = await pending;
    this.checked.set(ctx, check);
    if (check.blocked) {
      ctx.set('retry-after', String(Math.max(1, check.retryAfterSeconds)));
      throw new TooManyClientAttempts();
    }
    return lookup();
  }

  attach(provider: Provider, tenantId: string) {
    // Awaited here, not in an event listener, so a failure is counted before the answer leaves:
    // the next attempt already sees it.
    provider.use(async (ctx, next) => {
      await next();
      const oidc = oidcOf(ctx as Ctx);
      if (!oidc?.route) return;
      try {
        await this.after(tenantId, ctx as Ctx, oidc);
      } catch (err) {
        this.logger.warn({ err, tenantId }, 'could not record an OIDC security event');
      }
    });
    provider.on('end_session.success', (ctx: Ctx) => this.loggedOut(tenantId, ctx));
    provider.on('grant.revoked', (ctx: Ctx, grantId: string) =>
      this.grantRevoked(tenantId, ctx, grantId),
    );
  }

  private base(tenantId: string, ctx: Ctx): Pick<AuditEventInput, 'tenantId' | 'ip' | 'userAgent'> {
    return { tenantId, ip: ctx.ip || null, userAgent: userAgentOf(ctx) };
  }

  private async after(tenantId: string, ctx: Ctx, oidc: Ctx['oidc']) {
    const route = oidc.route;
    if (CLIENT_AUTH_ROUTES.has(route)) {
      const error = (ctx.body as { error?: unknown } | undefined)?.error;
      if (error === 'invalid_client') {
        await this.clientAuthFailed(tenantId, ctx, oidc);
      } else if (ctx.status < 400 && oidc.client && oidc.client.clientAuthMethod !== 'none') {
        await this.blocker.recordSuccess(
          tenantId,
          { clientId: oidc.client.clientId },
          this.checked.get(ctx),
        );
      }
    }
    if (route === 'revocation' && ctx.status === 200) this.revoked(tenantId, ctx, oidc);
    if (route === 'resume' && oidc.result?.consent?.grantId) this.consented(tenantId, ctx, oidc);
  }

  private async clientAuthFailed(tenantId: string, ctx: Ctx, oidc: Ctx['oidc']) {
    const clientId = attemptedClientId(ctx);
    const method = oidc.client?.clientAuthMethod ?? 'client_secret';
    await this.blocker.recordFailure(tenantId, {
      ip: ctx.ip,
      clientId,
      method,
    });
    const description = (ctx.body as { error_description?: unknown }).error_description;
    this.audit.record({
      ...this.base(tenantId, ctx),
      type: 'client_auth.failure',
      actorType: 'system',
      actorId: clientId,
      subjectType: 'client',
      subjectId: clientId,
      outcome: 'failure',
      method,
      details: {
        endpoint: oidc.route,
        ...(typeof description === 'string' ? { reason: description } : {}),
      },
    });
  }

  private revoked(tenantId: string, ctx: Ctx, oidc: Ctx['oidc']) {
    const e = oidc.entities;
    const token = e.AccessToken ?? e.RefreshToken ?? e.ClientCredentials;
    const client = oidc.client;
    // Mirrors the revocation policy: a public client's request for another client's token is
    // answered 200 but changes nothing.
    if (!token || !client) return;
    if (token.clientId !== client.clientId && client.clientAuthMethod === 'none') return;
    const accountId = (token as { accountId?: string }).accountId;
    this.audit.record({
      ...this.base(tenantId, ctx),
      type: 'token.revoked',
      actorType: 'system',
      actorId: client.clientId,
      subjectType: accountId ? 'user' : 'client',
      subjectId: accountId ?? token.clientId ?? null,
      outcome: 'success',
      method: 'revocation_endpoint',
      details: { token_type: token.kind, client_id: token.clientId },
    });
  }

  private consented(tenantId: string, ctx: Ctx, oidc: Ctx['oidc']) {
    const accountId = oidc.session?.accountId ?? oidc.result?.login?.accountId ?? null;
    const scope = oidc.grant?.getOIDCScope();
    this.audit.record({
      ...this.base(tenantId, ctx),
      type: 'consent.granted',
      actorType: accountId ? 'user' : 'system',
      actorId: accountId,
      subjectType: 'client',
      subjectId: oidc.client?.clientId ?? null,
      outcome: 'success',
      method: 'interaction',
      details: { grant_id: oidc.result?.consent?.grantId, ...(scope ? { scope } : {}) },
    });
  }

  private loggedOut(tenantId: string, ctx: Ctx) {
    const oidc = oidcOf(ctx);
    const accountId = oidc?.session?.accountId ?? null;
    this.audit.record({
      ...this.base(tenantId, ctx),
      type: 'logout.success',
      actorType: accountId ? 'user' : 'system',
      actorId: accountId,
      subjectType: 'user',
      subjectId: accountId,
      outcome: 'success',
      method: 'rp_initiated',
      details: oidc?.client ? { client_id: oidc.client.clientId } : {},
    });
  }

  /**
   * At the token endpoint a grant is revoked only because a spent refresh token or code came
   * back: someone holds a copy. Revocations elsewhere (logout, the revocation endpoint) have
   * their own events.
   */
  private grantRevoked(tenantId: string, ctx: Ctx, grantId: string) {
    const oidc = oidcOf(ctx);
    if (oidc?.route !== 'token') return;
    const grantType = (oidc.params as { grant_type?: unknown } | undefined)?.grant_type;
    const reused = oidc.entities.RefreshToken ?? oidc.entities.AuthorizationCode;
    const accountId = (reused as { accountId?: string } | undefined)?.accountId ?? null;
    this.audit.record({
      ...this.base(tenantId, ctx),
      type:
        grantType === 'authorization_code'
          ? 'token.code_reuse_detected'
          : 'token.refresh_reuse_detected',
      actorType: 'system',
      actorId: oidc.client?.clientId ?? null,
      subjectType: 'user',
      subjectId: accountId,
      outcome: 'failure',
      method: typeof grantType === 'string' ? grantType : null,
      details: { grant_id: grantId, grant_revoked: true },
    });
  }
}
