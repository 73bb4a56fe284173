import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../../../libs/crypto/index.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { MagicLinksService } from '../../email-flows/magic-links.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { UsersService } from '../../users/users.service.js';
import { tenantBranding } from '../kit/branding.js';
import { cookieHeader, DoubleSubmitCsrf, readCookie } from '../kit/csrf.js';
import { errorPage, esc, layout, type Branding } from '../kit/layout.js';
import type { PageReply, PageRequest, PageResult } from '../kit/page-reply.js';
import { notFoundPage } from '../kit/page-errors.js';
import { STEP_STYLE } from '../kit/steps.js';
import { FirstFactorStep } from './first-factor.step.js';
import { InteractionContext, type Loaded } from './interaction-context.js';
import { SignInTokenLoginMethod } from './sign-in-token.method.js';

/** The token, sealed, on its way from the token page to the login prompt it signs in. */
const CARRY_COOKIE = 'idp_sign_in_token';
const CSRF_COOKIE = 'idp_sign_in_token_csrf';
const UID = /^[A-Za-z0-9_-]{1,64}$/;
const INVALID =
  'This sign-in token is invalid, has expired or was already used. Ask for a new one.';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The hosted use of an admin-issued sign-in token (decision 0032). GET shows who it signs in and
 * a button (a link preview spends nothing); the POST (double-submit CSRF) carries the token,
 * sealed in a short cookie, to a login prompt: the pending authorisation named by
 * `interaction`, else a fresh sign-in of the account page. There, before the login page is
 * drawn, the token is one attempt of SignInTokenLoginMethod through FirstFactorStep: the blocker,
 * the audit log, the second factor and the shared completion apply as to any sign-in.
 */
@Injectable()
export class SignInTokenStep {
  private readonly box: SecretBox;
  private readonly csrf: DoubleSubmitCsrf;
  private readonly secure: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    context: InteractionContext,
    private readonly firstFactor: FirstFactorStep,
    private readonly method: SignInTokenLoginMethod,
    private readonly links: MagicLinksService,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly blocker: BlockerService,
    private readonly providers: OidcProviders,
  ) {
    this.box = new SecretBox(config.masterKey);
    this.secure = config.publicUrl.startsWith('https:');
    this.csrf = new DoubleSubmitCsrf(config.masterKey, 'email-link-csrf', CSRF_COOKIE, this.secure);
    context.beforePrompt('login', (l, http) => this.landing(l, http));
  }

  private basePath(tenantId: string): string {
    return new URL(this.providers.issuerOf(tenantId)).pathname;
  }

  /** GET login/sign-in-token?token=…[&interaction=uid]: who the token signs in, and a button. */
  async show(
    tenantId: string,
    query: Record<string, unknown>,
    http: PageRequest,
  ): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    const user = await this.check(tenantId, query.token, http);
    if (!user) return this.invalid(b);
    const base = this.basePath(tenantId);
    const { token: csrf, setCookie } = this.csrf.issue(
      tenantId,
      http.req.headers.cookie,
      `${base}/login/sign-in-token`,
    );
    const interaction = UID.test(str(query.interaction)) ? str(query.interaction) : '';
    return {
      status: 200,
      setCookie,
      html: layout(
        b,
        'Sign in',
        `${STEP_STYLE}
<h1>Sign in</h1>
<p>This one-time link from support signs you in as <strong>${esc(user.username)}</strong>.</p>
<form method="post" action="${esc(`${base}/login/sign-in-token`)}">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="hidden" name="token" value="${esc(str(query.token))}">
<input type="hidden" name="interaction" value="${esc(interaction)}">
<button type="submit" autofocus>Continue</button>
</form>`,
      ),
    };
  }

  /** POST login/sign-in-token: carries the token to a login prompt. */
  async submit(
    tenantId: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    if (!this.csrf.verify(tenantId, http.req.headers.cookie, form.csrf))
      return {
        status: 403,
        html: errorPage(b, 'invalid_request', 'The form has expired. Open the link again.'),
      };
    if (!(await this.check(tenantId, form.token, http))) return this.invalid(b);
    const base = this.basePath(tenantId);
    const uid = UID.test(str(form.interaction)) ? str(form.interaction) : '';
    return {
      status: 303,
      location: uid ? `${base}/interaction/${uid}` : `${base}/account/signin?reauth=1`,
      setCookie: cookieHeader(CARRY_COOKIE, this.box.seal(str(form.token), this.aad(tenantId)), {
        path: `${base}/interaction`,
        secure: this.secure,
        maxAge: 600,
      }),
    };
  }

  /** At a login prompt: a carried token signs in (or shows the login page with the refusal). */
  private async landing(l: Loaded, http: PageRequest): Promise<PageResult | undefined> {
    const sealed = readCookie(http.req.headers.cookie, CARRY_COOKIE);
    if (!sealed) return undefined;
    // Spent or not, the cookie goes: it works for one landing only.
    http.res.appendHeader(
      'set-cookie',
      cookieHeader(CARRY_COOKIE, '', {
        path: `${this.basePath(l.tenantId)}/interaction`,
        secure: this.secure,
        maxAge: 0,
      }),
    );
    let token: string;
    try {
      token = this.box.openString(decodeURIComponent(sealed), this.aad(l.tenantId));
    } catch {
      return undefined;
    }
    const row = await this.links.peek(l.tenantId, 'admin', token);
    const user = row ? await this.users.getEntity(l.tenantId, row.user_id) : null;
    return this.firstFactor.attempt(
      l,
      http,
      this.method,
      { token, login: user?.username ?? '' },
      (message) => this.firstFactor.render(l, message, 401),
    );
  }

  /** The user a live token signs in; unknown tokens are counted per IP in the blocker. */
  private async check(tenantId: string, token: unknown, http: PageRequest) {
    const who = { ip: http.ip, username: null };
    if ((await this.blocker.check(tenantId, who)).blocked) return null;
    const row = await this.links.peek(tenantId, 'admin', token);
    const user = row ? await this.users.getEntity(tenantId, row.user_id) : null;
    if (!user || user.is_disabled) {
      await this.blocker.recordFailure(tenantId, { ...who, method: this.method.id });
      return null;
    }
    return user;
  }

  private aad(tenantId: string): string {
    return `sign-in-token-carry:${tenantId}`;
  }

  private invalid(b: Branding): PageResult {
    return { status: 400, html: errorPage(b, 'invalid_request', INVALID) };
  }
}
