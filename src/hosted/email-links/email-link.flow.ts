import { Inject, Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit/audit.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { tenantBranding } from '../kit/branding.js';
import { DoubleSubmitCsrf } from '../kit/csrf.js';
import { errorPage, messagePage, type Branding } from '../kit/layout.js';
import { notFoundPage, statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import { LINK_PURPOSES, type LinkForm, type LinkPurposeName } from './link-purposes.js';
import { badLinkPage, forgotPage } from './views.js';

const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;

/** The browser's side of one request: its cookie header and the audit context. */
export interface LinkRequest {
  cookie: string | undefined;
  ctx: AuditContext;
}

/**
 * The mailed links of EmailFlowsService (password reset, email verification, email change) as
 * one flow: the link's landing page shows a form (following the link spends nothing, so mail
 * scanners are harmless), the post, with a double-submit CSRF token, spends it. What differs
 * per link is data (link-purposes.ts). The mail and the token rules are EmailFlowsService's.
 * Also the "forgot password" page that sends the reset link: it answers the same whether or not
 * an account has the address.
 */
@Injectable()
export class EmailLinkFlow {
  private readonly csrf: Record<LinkPurposeName, DoubleSubmitCsrf>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly providers: OidcProviders,
    private readonly flows: EmailFlowsService,
  ) {
    const secure = config.publicUrl.startsWith('https:');
    const csrf = (name: LinkPurposeName) => {
      const p = LINK_PURPOSES[name];
      return new DoubleSubmitCsrf(config.masterKey, p.csrf, p.cookie, secure);
    };
    this.csrf = {
      'password-reset': csrf('password-reset'),
      'verify-email': csrf('verify-email'),
      'confirm-email': csrf('confirm-email'),
    };
  }

  /** /<tenant>/<area>: the path of the area's pages (also the Path of the form cookie). */
  private base(tenantId: string, area: 'login' | 'account') {
    return `${new URL(this.providers.issuerOf(tenantId)).pathname}/${area}`;
  }

  private badLink(name: LinkPurposeName, tenantId: string, b: Branding): PageReply {
    const { area, again } = LINK_PURPOSES[name];
    const base = this.base(tenantId, area);
    return {
      status: 400,
      html: badLinkPage(b, again.path ? `${base}/${again.path}` : base, again.text),
    };
  }

  /** The landing form of a link, with the token bound to this browser's cookie. */
  private async form(
    name: LinkPurposeName,
    tenantId: string,
    token: string,
    cookie: string | undefined,
  ): Promise<{ form: LinkForm; setCookie?: string }> {
    const p = LINK_PURPOSES[name];
    const base = this.base(tenantId, p.area);
    const csrf = this.csrf[name].issue(tenantId, cookie, base);
    const { password_min_length } = await this.tenants.settings(tenantId);
    return {
      form: {
        action: `${base}/${p.path}`,
        csrf: csrf.token,
        token,
        minLength: password_min_length,
      },
      setCookie: csrf.setCookie,
    };
  }

  /** GET: the link's landing page. */
  async show(
    name: LinkPurposeName,
    tenantId: string,
    token: unknown,
    cookie: string | undefined,
  ): Promise<PageReply> {
    const p = LINK_PURPOSES[name];
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage(p.areaName);
    if (typeof token !== 'string' || !TOKEN.test(token)) return this.badLink(name, tenantId, b);
    const { form, setCookie } = await this.form(name, tenantId, token, cookie);
    return { status: 200, setCookie, html: p.page(b, form) };
  }

  /** POST: spends the link. */
  async confirm(
    name: LinkPurposeName,
    tenantId: string,
    posted: Record<string, string>,
    http: LinkRequest,
  ): Promise<PageReply> {
    const p = LINK_PURPOSES[name];
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage(p.areaName);
    if (!this.csrf[name].verify(tenantId, http.cookie, posted.csrf))
      return { status: 403, html: errorPage(b, 'invalid_request', p.expired) };
    const token = typeof posted.token === 'string' ? posted.token : '';
    if (!TOKEN.test(token)) return this.badLink(name, tenantId, b);
    const again = async (error: string, status: number): Promise<PageReply> => {
      const { form, setCookie } = await this.form(name, tenantId, token, http.cookie);
      return { status, setCookie, html: p.page(b, { ...form, error }) };
    };
    const problem = p.check?.(posted);
    if (problem) return again(problem, 400);
    try {
      await p.spend(this.flows, tenantId, token, posted, http.ctx);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const { form } = await this.form(name, tenantId, token, http.cookie);
      const refusal = p.refusal(err, form);
      if (!refusal) return this.badLink(name, tenantId, b);
      if ('form' in refusal) return again(refusal.form, refusal.status);
      return { status: refusal.status, html: errorPage(b, refusal.error, refusal.message) };
    }
    return { status: 200, html: messagePage(b, p.done.title, p.done.message) };
  }

  /** GET forgot: the form asking for the address to send a reset link to. */
  async showForgot(tenantId: string, cookie: string | undefined): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    const base = this.base(tenantId, 'login');
    const csrf = this.csrf['password-reset'].issue(tenantId, cookie, base);
    return {
      status: 200,
      setCookie: csrf.setCookie,
      html: forgotPage(b, { action: `${base}/forgot`, csrf: csrf.token }),
    };
  }

  /** POST forgot: sends the link when an account has the address; the answer is the same. */
  async forgot(
    tenantId: string,
    posted: Record<string, string>,
    http: LinkRequest,
  ): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    const reset = this.csrf['password-reset'];
    if (!reset.verify(tenantId, http.cookie, posted.csrf))
      return {
        status: 403,
        html: errorPage(b, 'invalid_request', LINK_PURPOSES['password-reset'].expired),
      };
    const email = typeof posted.email === 'string' ? posted.email.trim() : '';
    const base = this.base(tenantId, 'login');
    const csrf = reset.issue(tenantId, http.cookie, base);
    const page = (status: number, o: { sent?: boolean; error?: string }): PageReply => ({
      status,
      setCookie: csrf.setCookie,
      html: forgotPage(b, { action: `${base}/forgot`, csrf: csrf.token, ...o }),
    });
    if (!email || email.length > 254 || !email.includes('@'))
      return page(400, { error: 'Enter the email address of your account.' });
    try {
      await this.flows.requestPasswordReset(tenantId, email, http.ctx);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return page(statusOf(err), {
        error:
          err.kind === 'too-many'
            ? 'Too many requests from your network. Try again later.'
            : 'Password reset by email is not available here. Ask your administrator.',
      });
    }
    return page(200, { sent: true });
  }
}
