import { Inject, Injectable } from '@nestjs/common';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { AuditContext } from '../../audit/audit.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { DeviceLinksService, maskEmail } from '../../passkeys/device-links.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { tenantBranding } from '../kit/branding.js';
import { DoubleSubmitCsrf } from '../kit/csrf.js';
import { errorPage, type Branding } from '../kit/layout.js';
import { notFoundPage, statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import { deviceLinkBadPage, deviceLinkDonePage, deviceLinkPage } from './device-link.views.js';

export interface LinkHttp {
  cookie: string | undefined;
  ctx: AuditContext;
}

const FAILED = 'The passkey could not be added. Try again.';

/**
 * The landing page of a device link, /<t>/device-link/<token>: shows whom the link is for
 * (display name, masked email), fetches registration options (JSON, CSRF-checked) and posts
 * the authenticator's answer back as an ordinary form (CSRF-checked), which spends the link.
 * The forms' CSRF is a double-submit cookie scoped to /<t>/device-link. Afterwards the device
 * is not signed in: the page says to sign in with the new passkey (decision 0031).
 */
@Injectable()
export class DeviceLinkPages {
  private readonly csrf: DoubleSubmitCsrf;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly links: DeviceLinksService,
  ) {
    this.csrf = new DoubleSubmitCsrf(
      config.masterKey,
      'device-link-csrf',
      'idp_device_link',
      config.publicUrl.startsWith('https:'),
    );
  }

  private path(tenantId: string) {
    return `/${tenantId}/device-link`;
  }

  private bad(b: Branding, err: unknown): PageReply {
    if (!isDomainError(err)) throw err;
    if (err.kind === 'too-many')
      return { status: 429, html: errorPage(b, 'too_many_requests', 'Try again later.') };
    if (err.kind === 'forbidden')
      return { status: 403, html: errorPage(b, 'access_denied', 'Passkeys are turned off here.') };
    return {
      status: err.code === 'token-expired' ? 410 : 404,
      html: deviceLinkBadPage(b, err.code === 'token-expired'),
    };
  }

  private async page(
    tenantId: string,
    b: Branding,
    token: string,
    http: LinkHttp,
    error?: string,
    status = 200,
  ): Promise<PageReply> {
    let holder;
    try {
      holder = await this.links.holder(tenantId, token, http.ctx);
    } catch (err) {
      return this.bad(b, err);
    }
    const base = this.path(tenantId);
    const csrf = this.csrf.issue(tenantId, http.cookie, base);
    const u = holder.user;
    return {
      status,
      scripts: true,
      setCookie: csrf.setCookie,
      html: deviceLinkPage(b, {
        action: `${base}/${token}`,
        optionsAction: `${base}/${token}/options`,
        csrf: csrf.token,
        name: u.display_name || u.username,
        maskedEmail: maskEmail(u.email),
        expiresAt: holder.expiresAt,
        error,
      }),
    };
  }

  /** GET device-link/:token */
  async show(tenantId: string, token: string, http: LinkHttp): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    return this.page(tenantId, b, token, http);
  }

  /** POST device-link/:token/options: the ceremony's options (JSON for the page's script). */
  async options(
    tenantId: string,
    token: string,
    posted: Record<string, string>,
    http: LinkHttp,
  ): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return { status: 404, json: { error: 'not_found' } };
    if (!this.csrf.verify(tenantId, http.cookie, posted.csrf))
      return {
        status: 403,
        json: { error: 'The form has expired. Reload the page and try again.' },
      };
    try {
      return { status: 200, json: await this.links.options(tenantId, token, http.ctx) };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), json: { error: err.message } };
    }
  }

  /** POST device-link/:token: registers the passkey and spends the link. */
  async register(
    tenantId: string,
    token: string,
    posted: Record<string, string>,
    http: LinkHttp,
  ): Promise<PageReply> {
    const b = await tenantBranding(this.tenants, tenantId);
    if (!b) return notFoundPage('Sign in');
    if (!this.csrf.verify(tenantId, http.cookie, posted.csrf))
      return {
        status: 403,
        html: errorPage(
          b,
          'invalid_request',
          'The form has expired. Reload the page and try again.',
        ),
      };
    const raw = typeof posted.response === 'string' ? posted.response : '';
    let response: RegistrationResponseJSON | undefined;
    try {
      response =
        raw && raw.length < 64 * 1024 ? (JSON.parse(raw) as RegistrationResponseJSON) : undefined;
    } catch {
      response = undefined;
    }
    if (!response || typeof response !== 'object')
      return this.page(tenantId, b, token, http, FAILED, 400);
    try {
      await this.links.register(
        tenantId,
        token,
        typeof posted.challenge_id === 'string' ? posted.challenge_id : '',
        response,
        http.ctx,
      );
    } catch (err) {
      if (isDomainError(err) && err.code === 'webauthn-failed')
        return this.page(tenantId, b, token, http, FAILED, 400);
      return this.bad(b, err);
    }
    return { status: 200, html: deviceLinkDonePage(b, { signInHref: `/${tenantId}/account` }) };
  }
}
