import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import type { AuditContext } from '../../audit/audit.service.js';
import { ProblemException } from '../../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { brandingOf } from '../../tenants/branding.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { BrowserCsrf, readCookie } from '../kit/csrf.js';
import type { PageResult } from '../kit/page-reply.js';
import { badLinkPage, forgotPage, resetPage } from './views.js';
import { errorPage, messagePage, type Branding } from '../kit/layout.js';

const COOKIE = 'idp_form';
const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;

/** What the pages set on the response besides the page itself. */
export interface CookieOut {
  setCookie?: string;
}

/**
 * The "forgot password" pages: ask for the address, then the mailed link's form. The mail and
 * the token rules are EmailFlowsService's; these pages only turn its answers into pages. The
 * request page answers the same whether or not an account has the address.
 */
@Injectable()
export class PasswordResetPages {
  private readonly csrf: BrowserCsrf;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly providers: OidcProviders,
    private readonly flows: EmailFlowsService,
  ) {
    this.csrf = new BrowserCsrf(config.masterKey, 'reset-form-csrf');
  }

  private async branding(tenantId: string): Promise<Branding | undefined> {
    if (!isValidTenantId(tenantId) || !(await this.tenants.exists(tenantId))) return undefined;
    return brandingOf(tenantId, await this.tenants.settings(tenantId));
  }

  private base(tenantId: string) {
    return `${new URL(this.providers.issuerOf(tenantId)).pathname}/login`;
  }

  /** The browser's form cookie, made when it has none (Path is the tenant's login pages). */
  private formCookie(tenantId: string, header: string | undefined, out: CookieOut): string {
    const existing = readCookie(header, COOKIE);
    if (existing && /^[A-Za-z0-9_-]{16,64}$/.test(existing)) return existing;
    const value = randomBytes(24).toString('base64url');
    const secure = this.config.publicUrl.startsWith('https:') ? '; Secure' : '';
    out.setCookie = `${COOKIE}=${value}; Path=${this.base(tenantId)}; HttpOnly; SameSite=Lax${secure}`;
    return value;
  }

  private notFound(): PageResult {
    return {
      status: 404,
      html: messagePage(
        { tenantId: '', displayName: 'Sign in', logoUrl: null, primaryColor: null },
        'Page not found',
        'There is nothing here.',
      ),
    };
  }

  private expiredForm(b: Branding): PageResult {
    return {
      status: 403,
      html: errorPage(b, 'invalid_request', 'The form has expired. Reload the page and try again.'),
    };
  }

  async showForgot(tenantId: string, cookie: string | undefined, out: CookieOut) {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    const value = this.formCookie(tenantId, cookie, out);
    return {
      status: 200,
      html: forgotPage(b, {
        action: `${this.base(tenantId)}/forgot`,
        csrf: this.csrf.token(tenantId, value),
      }),
    };
  }

  async forgot(
    tenantId: string,
    form: Record<string, string>,
    cookie: string | undefined,
    out: CookieOut,
    ctx: AuditContext,
  ): Promise<PageResult> {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    if (!this.csrf.verify(tenantId, readCookie(cookie, COOKIE), form.csrf))
      return this.expiredForm(b);
    const email = typeof form.email === 'string' ? form.email.trim() : '';
    const action = `${this.base(tenantId)}/forgot`;
    const csrf = this.csrf.token(tenantId, this.formCookie(tenantId, cookie, out));
    if (!email || email.length > 254 || !email.includes('@')) {
      return {
        status: 400,
        html: forgotPage(b, { action, csrf, error: 'Enter the email address of your account.' }),
      };
    }
    try {
      await this.flows.requestPasswordReset(tenantId, email, ctx);
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      return {
        status: err.status,
        html: forgotPage(b, {
          action,
          csrf,
          error:
            err.status === 429
              ? 'Too many requests from your network. Try again later.'
              : 'Password reset by email is not available here. Ask your administrator.',
        }),
      };
    }
    return { status: 200, html: forgotPage(b, { action, csrf, sent: true }) };
  }

  async showReset(
    tenantId: string,
    token: unknown,
    cookie: string | undefined,
    out: CookieOut,
  ): Promise<PageResult> {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    if (typeof token !== 'string' || !TOKEN.test(token)) return this.badLink(tenantId, b);
    const { password_min_length } = await this.tenants.settings(tenantId);
    return {
      status: 200,
      html: resetPage(b, {
        action: `${this.base(tenantId)}/reset`,
        csrf: this.csrf.token(tenantId, this.formCookie(tenantId, cookie, out)),
        token,
        minLength: password_min_length,
      }),
    };
  }

  private badLink(tenantId: string, b: Branding): PageResult {
    return { status: 400, html: badLinkPage(b, `${this.base(tenantId)}/forgot`) };
  }

  async reset(
    tenantId: string,
    form: Record<string, string>,
    cookie: string | undefined,
    out: CookieOut,
    ctx: AuditContext,
  ): Promise<PageResult> {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    if (!this.csrf.verify(tenantId, readCookie(cookie, COOKIE), form.csrf))
      return this.expiredForm(b);
    const token = typeof form.token === 'string' ? form.token : '';
    if (!TOKEN.test(token)) return this.badLink(tenantId, b);
    const password = typeof form.password === 'string' ? form.password : '';
    const { password_min_length } = await this.tenants.settings(tenantId);
    const again = (error: string, status = 400): PageResult => ({
      status,
      html: resetPage(b, {
        action: `${this.base(tenantId)}/reset`,
        csrf: this.csrf.token(tenantId, this.formCookie(tenantId, cookie, out)),
        token,
        minLength: password_min_length,
        error,
      }),
    });
    if (!password || password.length > 1024) return again('Enter a new password.');
    if (password !== form.password2) return again('The two passwords are not the same.');
    try {
      await this.flows.confirmPasswordReset(tenantId, token, password, ctx);
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      if (err.status === 400 && err.errors?.some((e) => e.field === 'password'))
        return again(
          `The password does not meet the policy: at least ${password_min_length} characters.`,
        );
      if (err.status === 429)
        return again('Too many attempts from your network. Try again later.', 429);
      return this.badLink(tenantId, b);
    }
    return {
      status: 200,
      html: messagePage(
        b,
        'Password changed',
        'Your password is changed and you are signed out everywhere. Go back to the application and sign in with the new password.',
      ),
    };
  }
}
