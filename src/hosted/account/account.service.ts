import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { ClientsService } from '../../clients/clients.service.js';
import { ListQuery } from '../../common/pagination.js';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { tenantBranding } from '../kit/branding.js';
import { BrowserCsrf, cookieHeader, readCookie } from '../kit/csrf.js';
import { notFoundPage, statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import { errorPage, messagePage, type Branding } from '../kit/layout.js';
import { TotpService } from '../../mfa/totp.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { brandingOf } from '../../tenants/branding.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { UpdateUserDto } from '../../users/dto/user.dto.js';
import type { UserEntity } from '../../users/user.entity.js';
import { UsersService } from '../../users/users.service.js';
import { AccountConnected } from './account-connected.js';
import { AccountEmail } from './account-email.js';
import { accountPage, type AccountView } from './account.views.js';

/**
 * The first-party client the account page signs in through, one per tenant, made on first
 * use (like Keycloak's account console client): public, PKCE, no consent, openid only.
 */
export const ACCOUNT_CLIENT_ID = 'idp-account';
const STATE_COOKIE = 'idp_account_state';

export interface HttpIn {
  req: IncomingMessage;
  res: ServerResponse;
  ip: string | null;
  userAgent: string | null;
  cookie: string | undefined;
}

export interface Signed {
  tenantId: string;
  /** The tenant's settings, as TenantsService reads them. */
  settings: Awaited<ReturnType<TenantsService['settings']>>;
  branding: Branding;
  user: UserEntity;
  sessionId: string;
  loginTs: number | undefined;
  /** The request as the services audit it: the user acting on their own account. */
  ctx: AuditContext;
}

/** What a form post adds to the page it answers with. */
export type Extras = Pick<
  AccountView,
  'message' | 'error' | 'recoveryCodes' | 'enrolment' | 'deviceLink'
> & {
  status?: number;
};

/**
 * The account page of a tenant. Who is signed in is read from the tenant's own oidc-provider
 * session cookie (Path=/<tenant>, so it reaches /<tenant>/account): the page is one more view
 * of the session the hosted login made, no second cookie or token. Without a session the
 * browser goes through a normal authorization request of the tenant's account client, which
 * makes that session. Every form carries an HMAC of the session's uid (CSRF), so a form from
 * another session or another site is refused.
 */
@Injectable()
export class AccountService {
  private readonly csrf: BrowserCsrf;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly tenants: TenantsService,
    private readonly clients: ClientsService,
    private readonly users: UsersService,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
    private readonly email: AccountEmail,
    private readonly connected: AccountConnected,
  ) {
    this.csrf = new BrowserCsrf(config.masterKey, 'account-csrf');
  }

  base(tenantId: string): string {
    return `${new URL(this.providers.issuerOf(tenantId)).pathname}/account`;
  }

  /** The signed-in user of this browser in the tenant, from the provider's session. */
  private async signedIn(
    tenantId: string,
    http: HttpIn,
  ): Promise<Signed | 'no-tenant' | undefined> {
    if (!isValidTenantId(tenantId)) return 'no-tenant';
    const tenant = await this.providers.get(tenantId);
    if (!tenant) return 'no-tenant';
    const session = await tenant.provider.Session.get({
      req: http.req,
      res: http.res,
      secure: this.config.publicUrl.startsWith('https:'),
    } as never);
    const accountId = session.accountId;
    if (!accountId) return undefined;
    const user = await this.users.getEntity(tenantId, accountId);
    if (!user || user.is_disabled) return undefined;
    const settings = await this.tenants.settings(tenantId);
    return {
      tenantId,
      settings,
      branding: brandingOf(tenantId, settings),
      user,
      sessionId: session.uid,
      loginTs: session.loginTs,
      ctx: { ip: http.ip, userAgent: http.userAgent, actorType: 'user', actorId: user.user_id },
    };
  }

  private redirectUri(tenantId: string) {
    return `${this.config.publicUrl}/${tenantId}/account/callback`;
  }

  private async ensureClient(tenantId: string) {
    if (await this.clients.getProviderMetadata(tenantId, ACCOUNT_CLIENT_ID)) return;
    try {
      await this.clients.create(tenantId, {
        client_id: ACCOUNT_CLIENT_ID,
        name: 'Account',
        client_type: 'public',
        redirect_uris: [this.redirectUri(tenantId)],
        post_logout_redirect_uris: [`${this.config.publicUrl}/${tenantId}/account`],
        allowed_scopes: ['openid'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
        first_party: true,
      } as never);
    } catch (err) {
      // Made by a concurrent first visit: fine.
      if (!(isDomainError(err) && err.kind === 'conflict')) throw err;
    }
  }

  /**
   * GET signin: an authorization request of the account client; the state rides in a cookie.
   * With `reauth`, the provider asks for a new sign-in even when the session is live.
   */
  async signin(tenantId: string, reauth = false): Promise<PageReply> {
    if (!isValidTenantId(tenantId) || !(await this.providers.get(tenantId)))
      return notFoundPage('Account');
    await this.ensureClient(tenantId);
    const state = randomBytes(18).toString('base64url');
    // PKCE is required of public clients; the code is never redeemed (the session is what counts).
    const challenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
    const url = new URL(`${this.providers.issuerOf(tenantId)}/authorize`);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: this.redirectUri(tenantId),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(reauth ? { prompt: 'login' } : {}),
    }).toString();
    return {
      status: 303,
      location: url.href,
      setCookie: cookieHeader(STATE_COOKIE, state, {
        path: this.base(tenantId),
        secure: this.config.publicUrl.startsWith('https:'),
        maxAge: 600,
      }),
    };
  }

  /** GET callback: back from the sign-in; the provider session now exists. */
  async callback(
    tenantId: string,
    query: Record<string, unknown>,
    http: HttpIn,
  ): Promise<PageReply> {
    const branding = await tenantBranding(this.tenants, tenantId);
    if (!branding) return notFoundPage('Account');
    const expected = readCookie(http.cookie, STATE_COOKIE);
    const state = typeof query.state === 'string' ? query.state : '';
    const clear = cookieHeader(STATE_COOKIE, '', {
      path: this.base(tenantId),
      secure: false,
      maxAge: 0,
    });
    if (!expected || !state || expected !== state) {
      return {
        status: 400,
        html: errorPage(
          branding,
          'invalid_request',
          'This sign-in has expired. Open your account page again.',
        ),
        setCookie: clear,
      };
    }
    if (typeof query.error === 'string') {
      return {
        status: 400,
        html: errorPage(
          branding,
          query.error,
          typeof query.error_description === 'string' ? query.error_description : undefined,
        ),
        setCookie: clear,
      };
    }
    return { status: 303, location: this.base(tenantId), setCookie: clear };
  }

  private async view(s: Signed, extras: Extras = {}): Promise<PageReply> {
    const all = Object.assign(new ListQuery(), { limit: 100, offset: 0, sort_direction: -1 });
    const [passkeys, totp, sessions, signIns, emailChange, connected] = await Promise.all([
      s.settings.passkey_enabled
        ? this.passkeys.list(s.tenantId, s.user.user_id, all).then((p) => p.data)
        : Promise.resolve([]),
      this.totp.status(s.tenantId, s.user.user_id),
      this.sessions.views(s.tenantId, s.user.user_id),
      this.audit.recentSignIns(s.tenantId, s.user.user_id, 10),
      this.email.view(s),
      this.connected.view(s),
    ]);
    const { status, ...shown } = extras;
    return {
      status: status ?? 200,
      scripts: emailChange.proof ? 'wasm' : s.settings.passkey_enabled,
      html: accountPage({
        branding: s.branding,
        base: this.base(s.tenantId),
        csrf: this.csrf.token(s.tenantId, s.sessionId),
        user: s.user,
        currentSessionId: s.sessionId,
        passkeysEnabled: s.settings.passkey_enabled,
        passwordEnabled: s.settings.password_enabled,
        passkeys,
        totp,
        sessions,
        signIns,
        emailChange,
        connected,
        logoutUrl: `${new URL(this.providers.issuerOf(s.tenantId)).pathname}/logout`,
        logoutFields: {
          client_id: ACCOUNT_CLIENT_ID,
          post_logout_redirect_uri: `${this.config.publicUrl}/${s.tenantId}/account`,
        },
        ...shown,
      }),
    };
  }

  /** GET: the page, or off to sign in. */
  async show(tenantId: string, http: HttpIn): Promise<PageReply> {
    const s = await this.signedIn(tenantId, http);
    if (s === 'no-tenant') return notFoundPage('Account');
    if (!s) return { status: 303, location: `${this.base(tenantId)}/signin` };
    await this.sessions.touch(tenantId, s.user.user_id, s.loginTs);
    return this.view(s);
  }

  /**
   * A form post: signed in and a valid CSRF token first, then the action, whose answer is the
   * page again with a message (or the action's own result).
   */
  async post(
    tenantId: string,
    http: HttpIn,
    form: Record<string, string>,
    action: (s: Signed) => Promise<Extras | PageReply>,
  ): Promise<PageReply> {
    const s = await this.signedIn(tenantId, http);
    if (s === 'no-tenant') return notFoundPage('Account');
    if (!s) return { status: 303, location: `${this.base(tenantId)}/signin` };
    if (!this.csrf.verify(tenantId, s.sessionId, form.csrf)) {
      return {
        status: 403,
        html: errorPage(
          s.branding,
          'invalid_request',
          'The form has expired. Reload the page and try again.',
        ),
      };
    }
    const out = await action(s);
    if ('html' in out || 'location' in out || 'json' in out) return out;
    return this.view(s, out);
  }

  // ---- actions

  async profile(s: Signed, form: Record<string, string>): Promise<Extras> {
    const changes = {
      display_name: str(form.display_name).trim() || null,
      locale: str(form.locale).trim() || null,
    };
    const problems = await validate(plainToInstance(UpdateUserDto, changes));
    if (problems.length || (changes.display_name?.length ?? 0) > 200) {
      return {
        status: 400,
        error: 'Check the display name and the language (a tag such as en or pt-BR).',
      };
    }
    const updated = await this.users.update(s.tenantId, s.user.user_id, changes);
    s.user.display_name = updated.display_name;
    s.user.locale = updated.locale;
    return { message: 'Profile saved.' };
  }

  async password(
    s: Signed,
    form: Record<string, string>,
    http: HttpIn,
  ): Promise<Extras | PageReply> {
    if (!s.settings.password_enabled)
      return { status: 403, error: 'Passwords are turned off here.' };
    const current = typeof form.current_password === 'string' ? form.current_password : '';
    const next = typeof form.new_password === 'string' ? form.new_password : '';
    if (!current || !next || next.length > 1024 || current.length > 1024)
      return { status: 400, error: 'Enter your current password and a new one.' };
    if (next !== form.new_password2)
      return { status: 400, error: 'The two new passwords are not the same.' };
    const who = { ip: http.ip, username: s.user.username };
    if ((await this.blocker.check(s.tenantId, who)).blocked)
      return { status: 429, error: 'Too many wrong passwords. Try again later.' };
    if (!(await this.users.verifyPassword(s.tenantId, s.user, current))) {
      await this.blocker.recordFailure(s.tenantId, { ...who, method: 'password' });
      return { status: 400, error: 'The current password is not right.' };
    }
    try {
      await this.users.setPassword(s.tenantId, s.user.user_id, next);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'invalid')
        return {
          status: 400,
          error: `The new password does not meet the policy: at least ${s.settings.password_min_length} characters.`,
        };
      throw err;
    }
    this.audit.record({
      tenantId: s.tenantId,
      type: 'password.changed',
      actorType: 'user',
      actorId: s.user.user_id,
      subjectType: 'user',
      subjectId: s.user.user_id,
      ip: http.ip,
      userAgent: http.userAgent,
      method: 'password',
    });
    // A new password ends every session (UserEvents), this one too.
    return {
      status: 200,
      html: messagePage(
        s.branding,
        'Password changed',
        'Your password is changed and you are signed out everywhere. Open your account page again to sign in with the new password.',
      ),
    };
  }

  async revokeSession(s: Signed, sessionId: string): Promise<Extras | PageReply> {
    try {
      await this.sessions.revoke(s.tenantId, s.user.user_id, sessionId);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), error: 'That session is already over.' };
    }
    if (sessionId === s.sessionId) return this.signedOut(s);
    return { message: 'Session ended.' };
  }

  async revokeAll(s: Signed): Promise<PageReply> {
    await this.sessions.revokeAll(s.tenantId, s.user.user_id);
    return this.signedOut(s);
  }

  private signedOut(s: Signed): PageReply {
    return {
      status: 200,
      html: messagePage(
        s.branding,
        'Signed out',
        `You are signed out of ${s.branding.displayName}.`,
      ),
    };
  }
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 64 * 1024) : '';
}
