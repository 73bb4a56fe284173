import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { UserTokens } from '../access/user-tokens.js';
import type { Principal } from '../auth/scopes.js';
import { DomainError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { OidcProviders, type TenantProvider } from '../oidc/oidc-providers.service.js';
import { sessionCookieOptions } from '../oidc/provider-config.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UsersService } from '../users/users.service.js';
import { authnProblem } from './headless-problems.js';

type ProviderSession = Awaited<ReturnType<TenantProvider['provider']['Session']['get']>>;

export interface SessionCaller {
  req: IncomingMessage;
  res: ServerResponse;
  authorization?: string;
  origin?: string;
}

interface Resolved {
  tenant: TenantProvider;
  userId: string;
  session?: ProviderSession;
  via: 'session' | 'token';
  principal?: Principal;
}

const invalid = () =>
  new DomainError('unauthenticated', 'session-invalid', 'No live sign-in session or token');

/**
 * The seed's session endpoints (validate and renew, set a cookie session from a Bearer token,
 * user info with context, logout) on the tenant's own oidc-provider session: the cookie the
 * hosted and headless sign-ins leave, or the user's own access token (the session it came
 * from). No second session store exists.
 */
@Injectable()
export class HeadlessSessions {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly tokens: UserTokens,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly sessions: SessionsService,
  ) {}

  private get secure() {
    return this.config.publicUrl.startsWith('https:');
  }

  /** Who calls: a Bearer user token (me:read), else the session cookie (own origin only). */
  private async resolve(tenantId: string, c: SessionCaller, scope = 'me:read'): Promise<Resolved> {
    const tenant = isValidTenantId(tenantId) ? await this.providers.get(tenantId) : undefined;
    if (!tenant) throw authnProblem('authn-request-not-found', 'Tenant not found');
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.authorization ?? '')?.[1];
    if (bearer) {
      const principal = UserTokens.mayBe(bearer)
        ? await this.tokens.authenticate(tenantId, bearer)
        : undefined;
      if (!principal?.userId) throw invalid();
      if (!principal.scopes.has(scope))
        throw new DomainError('forbidden', 'insufficient-scope', `This needs the scope ${scope}`);
      const session = principal.sessionUid
        ? await tenant.provider.Session.findByUid(principal.sessionUid)
        : undefined;
      return { tenant, userId: principal.userId, session, via: 'token', principal };
    }
    // A cookie is sent by the browser whoever made the page: only our own pages may use it.
    if (c.origin !== undefined && c.origin !== new URL(this.config.publicUrl).origin)
      throw authnProblem('authn-origin-refused', `Origin ${c.origin} may not use this session`);
    const session = await tenant.provider.Session.get({
      req: c.req,
      res: c.res,
      secure: this.secure,
    } as never);
    if (!session.accountId) throw invalid();
    return { tenant, userId: session.accountId, session, via: 'session' };
  }

  private async activeUser(tenantId: string, userId: string) {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user || user.is_disabled) throw invalid();
    return user;
  }

  /** POST validate: the session is live; past half its lifetime it is renewed. */
  async validate(tenantId: string, c: SessionCaller) {
    const r = await this.resolve(tenantId, c);
    await this.activeUser(tenantId, r.userId);
    let renewed = false;
    const s = r.session;
    if (s && typeof s.exp === 'number') {
      const { session_ttl } = await this.tenants.settings(tenantId);
      if (s.exp - Date.now() / 1000 < session_ttl / 2) {
        await s.save(session_ttl);
        renewed = true;
      }
    }
    return {
      valid: true,
      user_id: r.userId,
      session_id: s?.uid ?? null,
      expires_at: typeof s?.exp === 'number' ? new Date(s.exp * 1000).toISOString() : null,
      renewed,
      via: r.via,
    };
  }

  /** POST user-info: the user, the session and the tenant. */
  async userInfo(tenantId: string, c: SessionCaller) {
    const r = await this.resolve(tenantId, c);
    await this.activeUser(tenantId, r.userId);
    const settings = await this.tenants.settings(tenantId);
    const view = r.session
      ? (await this.sessions.views(tenantId, r.userId)).find((v) => v.session_id === r.session!.uid)
      : undefined;
    const { login_ts: _ts, ...session } = view ?? { login_ts: null };
    return {
      user: await this.users.get(tenantId, r.userId),
      session: view ? session : null,
      tenant: { tenant_id: tenantId, display_name: settings.display_name },
      via: r.via,
    };
  }

  /**
   * POST set-session: this browser joins the session the Bearer token came from (its cookie is
   * set). Only the user's own token from a recent sign-in: a token handed to some API must not
   * turn into a browser session at the provider.
   */
  async setFromBearer(tenantId: string, c: SessionCaller) {
    if (!c.authorization) throw invalid();
    const r = await this.resolve(tenantId, c, 'me:write');
    this.tokens.assertRecent(r.principal!);
    if (!r.session?.accountId || r.session.accountId !== r.userId) throw invalid();
    const cookies = r.tenant.provider.createContext(c.req, c.res).cookies;
    cookies.secure = this.secure;
    cookies.set(
      r.tenant.provider.cookieName('session'),
      // The cookie carries the session's id (the stored artefact's key), never its uid.
      (r.session as unknown as { id: string }).id,
      sessionCookieOptions(this.providers.issuerOf(tenantId)),
    );
    return { session_id: r.session.uid, user_id: r.userId };
  }

  /** POST logout: the session (cookie or the token's) ends with every grant it opened. */
  async logout(tenantId: string, c: SessionCaller): Promise<void> {
    const r = await this.resolve(tenantId, c, 'me:write');
    if (!r.session?.uid) throw invalid();
    await this.sessions.revoke(tenantId, r.userId, r.session.uid);
    if (r.via === 'session') {
      const cookies = r.tenant.provider.createContext(c.req, c.res).cookies;
      cookies.secure = this.secure;
      const options = sessionCookieOptions(this.providers.issuerOf(tenantId));
      cookies.set(r.tenant.provider.cookieName('session'), null, options);
    }
  }
}
