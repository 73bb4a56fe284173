import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import type { AuditContext } from '../../audit/audit.service.js';
import { ProblemException } from '../../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { BrowserCsrf, readCookie } from '../kit/csrf.js';
import { badLinkPage, confirmLinkPage } from './views.js';
import { errorPage, messagePage, type Branding } from '../kit/layout.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { brandingOf } from '../../tenants/branding.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import type { AccountResult } from '../account/account.service.js';

const COOKIE = 'idp_link';
const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;

export type LinkKind = 'verify-email' | 'confirm-email';

const TEXT: Record<LinkKind, { title: string; text: string; button: string; done: string }> = {
  'verify-email': {
    title: 'Verify your email address',
    text: 'Confirm that this address is yours.',
    button: 'Verify my address',
    done: 'Your email address is verified.',
  },
  'confirm-email': {
    title: 'Confirm your new email address',
    text: 'Confirm that your account should use this new address from now on.',
    button: 'Use this address',
    done: 'Your account now uses the new email address.',
  },
};

/**
 * The landing pages of the mailed links of EmailFlowsService that point at the account
 * (/<tenant>/account/verify-email, /confirm-email). Following the link only shows a button:
 * mail scanners that open links spend nothing; the post (with a double-submit CSRF token) does.
 */
@Injectable()
export class EmailLinkPages {
  private readonly csrf: BrowserCsrf;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly providers: OidcProviders,
    private readonly flows: EmailFlowsService,
  ) {
    this.csrf = new BrowserCsrf(config.masterKey, 'email-link-csrf');
  }

  private base(tenantId: string) {
    return `${new URL(this.providers.issuerOf(tenantId)).pathname}/account`;
  }

  private async branding(tenantId: string): Promise<Branding | undefined> {
    if (!isValidTenantId(tenantId) || !(await this.tenants.exists(tenantId))) return undefined;
    return brandingOf(tenantId, await this.tenants.settings(tenantId));
  }

  private notFound(): AccountResult {
    return {
      status: 404,
      html: messagePage(
        { tenantId: '', displayName: 'Account', logoUrl: null, primaryColor: null },
        'Page not found',
        'There is nothing here.',
      ),
    };
  }

  async show(
    tenantId: string,
    kind: LinkKind,
    token: unknown,
    cookie: string | undefined,
  ): Promise<AccountResult> {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    if (typeof token !== 'string' || !TOKEN.test(token))
      return { status: 400, html: badLinkPage(b, this.base(tenantId), 'Go to your account') };
    let value = readCookie(cookie, COOKIE);
    let setCookie: string | undefined;
    if (!value || !/^[A-Za-z0-9_-]{16,64}$/.test(value)) {
      value = randomBytes(24).toString('base64url');
      const secure = this.config.publicUrl.startsWith('https:') ? '; Secure' : '';
      setCookie = `${COOKIE}=${value}; Path=${this.base(tenantId)}; HttpOnly; SameSite=Lax${secure}`;
    }
    return {
      status: 200,
      setCookie,
      html: confirmLinkPage(b, {
        ...TEXT[kind],
        action: `${this.base(tenantId)}/${kind}`,
        csrf: this.csrf.token(tenantId, value),
        token,
      }),
    };
  }

  async confirm(
    tenantId: string,
    kind: LinkKind,
    form: Record<string, string>,
    cookie: string | undefined,
    ctx: AuditContext,
  ): Promise<AccountResult> {
    const b = await this.branding(tenantId);
    if (!b) return this.notFound();
    if (!this.csrf.verify(tenantId, readCookie(cookie, COOKIE), form.csrf)) {
      return {
        status: 403,
        html: errorPage(b, 'invalid_request', 'The form has expired. Open the link again.'),
      };
    }
    const token = typeof form.token === 'string' ? form.token : '';
    const bad = { status: 400, html: badLinkPage(b, this.base(tenantId), 'Go to your account') };
    if (!TOKEN.test(token)) return bad;
    try {
      if (kind === 'verify-email') await this.flows.verify(tenantId, token, ctx);
      else await this.flows.confirmEmailChange(tenantId, token, ctx);
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      if (err.status === 409)
        return {
          status: 409,
          html: errorPage(b, 'conflict', 'Another account uses this address now.'),
        };
      if (err.status === 429)
        return {
          status: 429,
          html: errorPage(b, 'too_many_requests', 'Too many attempts. Try again later.'),
        };
      return bad;
    }
    return { status: 200, html: messagePage(b, TEXT[kind].title, TEXT[kind].done) };
  }
}
