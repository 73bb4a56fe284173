import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import type { UserEntity } from '../../users/user.entity.js';
import { UsersService } from '../../users/users.service.js';
import { profileOf, UpstreamSignIn } from '../../upstream/upstream-sign-in.js';
import { BrowserCsrf } from '../kit/csrf.js';
import type { PageReply } from '../kit/page-reply.js';
import type { UpstreamFlowState } from './upstream-state.js';
import { UpstreamFlow, type ProviderAt } from './upstream.flow.js';
import { linkConfirmPage, linkedPage } from './upstream.views.js';

export interface LinkHttp {
  req: IncomingMessage;
  res: ServerResponse;
  ip: string | null;
  userAgent: string | null;
}

/**
 * Link mode (the account page's "Connect <label>"): the signed-in user of the tenant's session
 * confirms with a CSRF-checked post, after a recent sign-in (RECENT_AUTH_SECONDS, as for adding
 * a passkey: a link is a new way in), then the same round trip as a sign-in; the callback links
 * the upstream subject to that user (never to another one, never by email).
 */
@Injectable()
export class UpstreamLink {
  private readonly csrf: BrowserCsrf;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly oidc: OidcProviders,
    private readonly users: UsersService,
    private readonly flow: UpstreamFlow,
    private readonly signIn: UpstreamSignIn,
  ) {
    this.csrf = new BrowserCsrf(config.masterKey, 'account-csrf');
  }

  private async session(tenantId: string, http: LinkHttp) {
    const tenant = await this.oidc.get(tenantId);
    if (!tenant) return undefined;
    const session = await tenant.provider.Session.get({
      req: http.req,
      res: http.res,
      secure: this.config.publicUrl.startsWith('https:'),
    } as never);
    if (!session.accountId) return undefined;
    const user = await this.users.getEntity(tenantId, session.accountId);
    if (!user || user.is_disabled) return undefined;
    return { user, sessionId: session.uid, loginTs: session.loginTs ?? 0 };
  }

  private token(tenantId: string, providerId: string, sessionId: string) {
    return this.csrf.token(tenantId, `upstream-link:${providerId}:${sessionId}`);
  }

  /** Signed in recently enough, or where to go first. */
  private async signedIn(at: ProviderAt, http: LinkHttp) {
    const s = await this.session(at.row.tenant_id, http);
    if (!s) return { status: 303 as const, location: `${at.basePath}/account/signin` };
    if (Date.now() / 1000 - s.loginTs > this.config.recentAuthSeconds)
      return { status: 303 as const, location: `${at.basePath}/account/signin?reauth=1` };
    return s;
  }

  /** GET link: the confirming page. */
  async show(tenantId: string, providerId: string, http: LinkHttp): Promise<PageReply> {
    const at = await this.flow.provider(tenantId, providerId);
    if ('status' in at) return at;
    const s = await this.signedIn(at, http);
    if ('status' in s) return s;
    return {
      status: 200,
      html: linkConfirmPage(at.branding, {
        label: at.row.label,
        action: `${at.cookiePath}/link`,
        csrf: this.token(tenantId, providerId, s.sessionId),
        accountHref: `${at.basePath}/account`,
      }),
    };
  }

  /** POST link: off to the upstream in link mode. */
  async begin(
    tenantId: string,
    providerId: string,
    form: Record<string, string>,
    http: LinkHttp,
  ): Promise<PageReply> {
    const at = await this.flow.provider(tenantId, providerId);
    if ('status' in at) return at;
    const s = await this.signedIn(at, http);
    if ('status' in s) return s;
    if (!this.csrf.verify(tenantId, `upstream-link:${providerId}:${s.sessionId}`, form.csrf))
      return this.flow.error(
        at,
        403,
        'invalid_request',
        'The form has expired. Go back to your account and try again.',
      );
    return this.flow.leave(at, { mode: 'link', userId: s.user.user_id, sessionId: s.sessionId });
  }

  /** The callback in link mode: still the same user and session, then the link. */
  async finish(
    at: ProviderAt,
    flow: UpstreamFlowState & { mode: 'link' },
    profile: ReturnType<typeof profileOf>,
    http: LinkHttp,
  ): Promise<PageReply> {
    const account = { href: `${at.basePath}/account`, text: 'Back to your account' };
    const s = await this.session(at.row.tenant_id, http);
    if (!s || s.sessionId !== flow.sessionId || s.user.user_id !== flow.userId)
      return this.flow.error(
        at,
        400,
        'invalid_request',
        'You are no longer signed in here. Sign in and connect again.',
        account,
      );
    const user: UserEntity = s.user;
    const outcome = await this.signIn.link(at.row, user, profile, {
      ip: http.ip,
      userAgent: http.userAgent,
      actorType: 'user',
      actorId: user.user_id,
    });
    if (typeof outcome === 'object')
      return this.flow.error(at, 409, outcome.reason, outcome.message, account);
    return {
      status: 200,
      html: linkedPage(at.branding, at.row.label, account.href, outcome === 'same'),
    };
  }
}
