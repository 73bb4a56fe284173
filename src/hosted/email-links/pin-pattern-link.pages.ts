import { Inject, Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { PinPatternLinksService } from '../../email-flows/pin-pattern-links.service.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { policyOf, type PinPatternPolicy } from '../../pin-pattern/pin-pattern-policy.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { PIN_PATTERN_SCRIPTS } from '../assets/pin-pattern-script.js';
import { tenantBranding } from '../kit/branding.js';
import { DoubleSubmitCsrf } from '../kit/csrf.js';
import { errorPage, esc, layout, messagePage, type Branding } from '../kit/layout.js';
import { notFoundPage, statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import {
  factorWords,
  PIN_PATTERN_STYLE,
  pinPatternData,
  pinPatternFields,
} from '../interaction/pin-pattern-view.js';
import type { LinkRequest } from './email-link.flow.js';
import { badLinkPage, forgotPage } from './views.js';

const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;

/**
 * The pages of the PIN/pattern links (PinPatternLinksService): "Forgot PIN/pattern?", which
 * mails a reset link (the same answer whether or not an account has the address), and the
 * link's landing page, whose script runs OPAQUE registration against the JSON routes
 * `/<t>/authn/zkp/reset/start` and `/finish` with the link's token (the PIN/pattern never
 * leaves the browser). Following the link spends nothing; finishing does.
 */
@Injectable()
export class PinPatternLinkPages {
  private readonly csrf: DoubleSubmitCsrf;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly providers: OidcProviders,
    private readonly links: PinPatternLinksService,
  ) {
    // The password reset's form cookie: both forms live under /<t>/login.
    this.csrf = new DoubleSubmitCsrf(
      config.masterKey,
      'reset-form-csrf',
      'idp_form',
      config.publicUrl.startsWith('https:'),
    );
  }

  private base(tenantId: string) {
    return new URL(this.providers.issuerOf(tenantId)).pathname;
  }

  private async policyPage(
    tenantId: string,
  ): Promise<{ page: PageReply } | { b: Branding; policy: PinPatternPolicy }> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return { page: notFoundPage('Sign in') };
    const policy = policyOf(await this.tenants.settings(tenantId));
    if (!policy)
      return {
        page: {
          status: 404,
          html: errorPage(b, 'not_found', 'PIN and pattern sign-in is not used here.'),
        },
      };
    return { b, policy };
  }

  /** GET login/pin-pattern/forgot */
  async showForgot(tenantId: string, cookie: string | undefined): Promise<PageReply> {
    const p = await this.policyPage(tenantId);
    if ('page' in p) return p.page;
    const base = `${this.base(tenantId)}/login`;
    const csrf = this.csrf.issue(tenantId, cookie, base);
    return {
      status: 200,
      setCookie: csrf.setCookie,
      html: forgotPage(p.b, {
        action: `${base}/pin-pattern/forgot`,
        csrf: csrf.token,
        what: factorWords(p.policy),
      }),
    };
  }

  /** POST login/pin-pattern/forgot */
  async forgot(
    tenantId: string,
    posted: Record<string, string>,
    http: LinkRequest,
  ): Promise<PageReply> {
    const p = await this.policyPage(tenantId);
    if ('page' in p) return p.page;
    if (!this.csrf.verify(tenantId, http.cookie, posted.csrf))
      return {
        status: 403,
        html: errorPage(
          p.b,
          'invalid_request',
          'The form has expired. Reload the page and try again.',
        ),
      };
    const base = `${this.base(tenantId)}/login`;
    const csrf = this.csrf.issue(tenantId, http.cookie, base);
    const page = (status: number, o: { sent?: boolean; error?: string }): PageReply => ({
      status,
      setCookie: csrf.setCookie,
      html: forgotPage(p.b, {
        action: `${base}/pin-pattern/forgot`,
        csrf: csrf.token,
        what: factorWords(p.policy),
        ...o,
      }),
    });
    const email = typeof posted.email === 'string' ? posted.email.trim() : '';
    if (!email || email.length > 254 || !email.includes('@'))
      return page(400, { error: 'Enter the email address of your account.' });
    try {
      await this.links.requestReset(tenantId, email, http.ctx);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return page(statusOf(err), {
        error:
          err.kind === 'too-many'
            ? 'Too many requests from your network. Try again later.'
            : 'Reset by email is not available here. Ask your administrator.',
      });
    }
    return page(200, { sent: true });
  }

  /** GET login/pin-pattern/reset?token=…: the keypad and grid to choose the new PIN/pattern. */
  async showReset(tenantId: string, token: unknown, http: LinkRequest): Promise<PageReply> {
    const p = await this.policyPage(tenantId);
    if ('page' in p) return p.page;
    const base = this.base(tenantId);
    const bad: PageReply = {
      status: 400,
      html: badLinkPage(p.b, `${base}/login/pin-pattern/forgot`),
    };
    if (typeof token !== 'string' || !TOKEN.test(token)) return bad;
    try {
      await this.links.check(tenantId, token, http.ctx);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.kind === 'too-many')
        return { status: 429, html: errorPage(p.b, 'too_many_requests', 'Try again later.') };
      return bad;
    }
    const words = factorWords(p.policy);
    const data = pinPatternData(p.policy, {
      mode: 'enrol',
      'enrol-start': `${base}/authn/zkp/reset/start`,
      enrol: `${base}/authn/zkp/reset/finish`,
    });
    const html = layout(
      p.b,
      `Choose a new ${words}`,
      `${PIN_PATTERN_STYLE}
<h1>Choose a new ${esc(words)}</h1>
<p>Your ${esc(words)} never leave this device. This link works once.</p>
<section class="pp" aria-label="Choose a ${esc(words)}" data-pin-pattern-section hidden>
<form method="post" action="${esc(`${base}/login/pin-pattern/reset/done`)}" data-pin-pattern ${data}>
<input type="hidden" name="token" value="${esc(token)}">
${pinPatternFields(p.policy)}
<p class="alert" role="alert" data-pp-error hidden></p>
<button type="submit" data-pp-submit>Save</button>
</form>
</section>
<noscript><p class="alert">This page needs JavaScript: the ${esc(words)} is checked on this device.</p></noscript>
${PIN_PATTERN_SCRIPTS}`,
    );
    return { status: 200, html, scripts: 'wasm' };
  }

  /** POST login/pin-pattern/reset/done: where the page goes once the script saved it. */
  async done(tenantId: string): Promise<PageReply> {
    const p = await this.policyPage(tenantId);
    if ('page' in p) return p.page;
    const words = factorWords(p.policy);
    return {
      status: 200,
      html: messagePage(
        p.b,
        `${words[0].toUpperCase()}${words.slice(1)} saved`,
        `Your new ${words} is saved. Sign in with it from the app you were using.`,
      ),
    };
  }
}
