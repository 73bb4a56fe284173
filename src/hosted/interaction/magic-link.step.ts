import { Inject, Injectable } from '@nestjs/common';
import { BlockerService } from '../../blocker/blocker.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { MagicLinksService } from '../../email-flows/magic-links.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { UsersService } from '../../users/users.service.js';
import { tenantBranding } from '../kit/branding.js';
import { cookieHeader, readCookie } from '../kit/csrf.js';
import { errorPage } from '../kit/layout.js';
import type { PageReply, PageRequest, PageResult } from '../kit/page-reply.js';
import { notFoundPage } from '../kit/page-errors.js';
import { FirstFactorStep } from './first-factor.step.js';
import {
  InteractionContext,
  isEmailAddress,
  isPage,
  loginHintOf,
  type Loaded,
} from './interaction-context.js';
import { LoginMethods } from './login-methods.js';
import { MagicLinkLoginMethod } from './magic-link.method.js';
import {
  magicLinkCodePage,
  magicLinkConfirmPage,
  magicLinkRequestPage,
  magicLinkSentPage,
} from './magic-link.views.js';

/** The asking browser's nonce, scoped to the interaction's path (`Path=/<t>/interaction/<uid>`). */
export const NONCE_COOKIE = 'idp_magic_nonce';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

const INVALID_LINK =
  'This sign-in link is invalid, has expired or was already used. Go back to the application and ask for a new one.';

/**
 * The pages of the sign-in link method (MagicLinkLoginMethod, decision 0032): ask by address
 * (the browser gets a random nonce cookie), "check your email" (which also takes the code from
 * another browser), and the mailed link itself. The link's GET only shows a page (a button in
 * the asking browser, the code anywhere else), so mail scanners that open links spend nothing;
 * its POST is one attempt of the method through FirstFactorStep (blocker, audit, second factor,
 * then the shared completion).
 */
@Injectable()
export class MagicLinkStep {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly context: InteractionContext,
    private readonly methods: LoginMethods,
    private readonly method: MagicLinkLoginMethod,
    private readonly firstFactor: FirstFactorStep,
    private readonly links: MagicLinksService,
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
    private readonly blocker: BlockerService,
    private readonly providers: OidcProviders,
  ) {}

  /** GET login/magic-link: asks for the address. */
  async show(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if (isPage(l)) return l;
    const hint = loginHintOf(l);
    return this.renderRequest(l, hint?.includes('@') ? hint : undefined);
  }

  /** POST login/magic-link: mails a link when the address has an account; the same page either way. */
  async request(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageReply> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const email = str(form.email).trim();
    if (!isEmailAddress(email))
      return this.renderRequest(l, email, 'Enter your email address.', 400);
    const present = this.nonceOf(http);
    const nonce = present ?? this.links.newNonce();
    const base = this.providers.issuerOf(tenantId);
    try {
      await this.links.request(
        tenantId,
        email,
        uid,
        nonce,
        (token) => `${base}/interaction/${uid}/login/magic-link/open?token=${token}`,
        http.ip,
      );
    } catch (err) {
      if (!isDomainError(err) || err.kind !== 'too-many') throw err;
      return this.renderRequest(
        l,
        email,
        'Too many requests from your network. Try again later.',
        429,
      );
    }
    return {
      ...this.renderSent(l, email),
      setCookie: cookieHeader(NONCE_COOKIE, nonce, {
        path: l.actions.base,
        secure: this.config.publicUrl.startsWith('https:'),
        maxAge: 3600,
      }),
    };
  }

  /** POST login/magic-link/code: the code another browser showed, typed in this one. */
  async code(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const state = this.context.openState(l, form.pending, ['email_code']);
    if (!state?.email || state.method !== this.method.id) return this.context.stepExpired(l);
    const email = state.email;
    return this.firstFactor.attempt(
      l,
      http,
      this.method,
      { via: 'code', email, code: str(form.code), nonce: this.nonceOf(http) ?? '' },
      (message) => this.renderSent(l, email, message, 401),
    );
  }

  /**
   * GET login/magic-link/open?token=…: the mailed link. In the browser that asked (its nonce
   * cookie and the interaction's cookie): a button that signs in. Anywhere else: the code to
   * type in that browser. Unknown, spent, expired or other tenants' links: one error page.
   */
  async open(
    tenantId: string,
    uid: string,
    token: unknown,
    http: PageRequest,
  ): Promise<PageResult> {
    const branding = await tenantBranding(this.tenants, tenantId);
    if (!branding) return notFoundPage('Sign in');
    const who = { ip: http.ip, username: null };
    if ((await this.blocker.check(tenantId, who)).blocked) return this.invalid(branding);
    const row = await this.links.peek(tenantId, 'magic', token, uid);
    if (!row || !(await this.methodOn(tenantId))) {
      // Guessing 256-bit tokens is hopeless, but a caller who keeps trying is still counted.
      await this.blocker.recordFailure(tenantId, { ...who, method: this.method.id });
      return this.invalid(branding);
    }
    if (this.links.askedBy(row, this.nonceOf(http))) {
      const l = await this.context.loadAt('login', tenantId, uid, http);
      if (isPage(l)) return l;
      return {
        status: 200,
        html: magicLinkConfirmPage(l.branding, {
          action: `${l.actions.login}/magic-link/open`,
          fields: { csrf: l.csrf, token: str(token) },
        }),
      };
    }
    return {
      status: 200,
      html: magicLinkCodePage(branding, this.links.codeOf(tenantId, str(token))),
    };
  }

  /** POST login/magic-link/open: the link in the browser that asked, one attempt of the method. */
  async confirm(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const row = await this.links.peek(tenantId, 'magic', form.token, uid);
    const user = row ? await this.users.getEntity(tenantId, row.user_id) : null;
    return this.firstFactor.attempt(
      l,
      http,
      this.method,
      {
        via: 'link',
        token: str(form.token),
        nonce: this.nonceOf(http) ?? '',
        email: user?.email ?? '',
      },
      () => this.invalid(l.branding, 401),
    );
  }

  private async methodOn(tenantId: string): Promise<boolean> {
    const settings = await this.tenants.settings(tenantId);
    return this.method.enabled({ ...settings, display_name: '' });
  }

  private nonceOf(http: PageRequest): string | undefined {
    const v = readCookie(http.req.headers.cookie, NONCE_COOKIE);
    return this.links.isNonce(v) ? v : undefined;
  }

  private invalid(branding: Loaded['branding'], status = 400): PageResult {
    return { status, html: errorPage(branding, 'invalid_request', INVALID_LINK) };
  }

  /** Loads a login-prompt interaction whose tenant offers sign-in links; a page instead. */
  private async load(
    tenantId: string,
    uid: string,
    http: PageRequest,
    form?: Record<string, string>,
  ): Promise<Loaded | PageResult> {
    const l = await this.context.loadAt('login', tenantId, uid, http, form);
    if (isPage(l)) return l;
    if (!this.methods.find(l.settings, this.method.id))
      return this.context.error(
        l.branding,
        403,
        'access_denied',
        'Sign-in links by email are not available.',
      );
    return l;
  }

  private renderRequest(l: Loaded, email?: string, error?: string, status = 200): PageResult {
    return {
      status,
      html: magicLinkRequestPage(l.branding, {
        action: `${l.actions.login}/magic-link`,
        fields: { csrf: l.csrf },
        loginHref: l.actions.base,
        email,
        error,
      }),
    };
  }

  private renderSent(l: Loaded, email: string, error?: string, status = 200): PageResult {
    return {
      status,
      html: magicLinkSentPage(l.branding, {
        action: `${l.actions.login}/magic-link/code`,
        fields: this.context.stepFields(l, {
          stage: 'email_code',
          accountId: '',
          amr: [],
          method: this.method.id,
          email,
        }),
        email,
        requestHref: `${l.actions.login}/magic-link`,
        loginHref: l.actions.base,
        error,
      }),
    };
  }
}
