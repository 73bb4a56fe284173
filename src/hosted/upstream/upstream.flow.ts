import { Inject, Injectable } from '@nestjs/common';
import { AuditService, type AuditContext } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { UpstreamClient, UpstreamFailure } from '../../upstream/upstream-client.js';
import type { UpstreamProviderEntity } from '../../upstream/upstream-provider.entity.js';
import { UpstreamProvidersService } from '../../upstream/upstream-providers.service.js';
import { profileOf, UpstreamSignIn } from '../../upstream/upstream-sign-in.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { brandingOf } from '../../tenants/branding.js';
import type { Branding } from '../kit/layout.js';
import { notFoundPage } from '../kit/page-errors.js';
import type { PageReply, PageRequest } from '../kit/page-reply.js';
import {
  InteractionContext,
  loginHintOf,
  type Loaded,
} from '../interaction/interaction-context.js';
import { UpstreamStates, type UpstreamFlowState, type UpstreamPurpose } from './upstream-state.js';
import { upstreamErrorPage, type UpstreamButton } from './upstream.views.js';

/** The query flag of the sign-in page that shows every way in, domain hints or not. */
export const CHOOSE = 'choose';

const EXPIRED =
  'This sign-in has expired or was started in another browser. Go back to the application and sign in again.';

/** A provider of a tenant, loaded for a route, with the tenant's branding and paths. */
export interface ProviderAt {
  row: UpstreamProviderEntity;
  branding: Branding;
  /** `/<tenant>` as the public URL's path has it. */
  basePath: string;
  redirectUri: string;
  cookiePath: string;
}

/**
 * The round trip to an upstream identity provider (issue 21): the start (a sealed state cookie,
 * then the upstream's authorization URL), the callback (state, PKCE, nonce and ID token checked
 * by UpstreamClient; who it is by UpstreamSignIn), and the hand-over to the interaction, whose
 * own route (UpstreamCompletionStep) finishes the sign-in like any other method. Everything the
 * upstream or the browser gets wrong is a readable page, never a 500.
 */
@Injectable()
export class UpstreamFlow {
  readonly states: UpstreamStates;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly oidc: OidcProviders,
    private readonly tenants: TenantsService,
    private readonly upstream: UpstreamProvidersService,
    private readonly client: UpstreamClient,
    private readonly signIn: UpstreamSignIn,
    private readonly context: InteractionContext,
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
  ) {
    this.states = new UpstreamStates(config.masterKey, config.publicUrl.startsWith('https:'));
  }

  /** The tenant's enabled provider by id, or the page to answer instead. */
  async provider(tenantId: string, providerId: string): Promise<ProviderAt | PageReply> {
    const tenant = isValidTenantId(tenantId) ? await this.oidc.get(tenantId) : undefined;
    if (!tenant) return notFoundPage('Sign in');
    const row = await this.upstream.find(tenantId, providerId);
    if (!row || !row.enabled) return notFoundPage('Sign in');
    const issuer = this.oidc.issuerOf(tenantId);
    const basePath = new URL(issuer).pathname;
    return {
      row,
      branding: brandingOf(tenantId, await this.tenants.settings(tenantId)),
      basePath,
      redirectUri: `${issuer}/upstream/${row.provider_id}/callback`,
      cookiePath: `${basePath}/upstream/${row.provider_id}`,
    };
  }

  /** The buttons of the login page (and the headless API): one per enabled provider. */
  async buttons(tenantId: string, uid: string): Promise<UpstreamButton[]> {
    const issuer = this.oidc.issuerOf(tenantId);
    const rows = await this.upstream.listEnabled(tenantId);
    return rows.map((r) => ({
      providerId: r.provider_id,
      label: r.label,
      iconUrl: r.icon_url,
      href: `${new URL(issuer).pathname}/upstream/${r.provider_id}/start?interaction=${encodeURIComponent(uid)}`,
    }));
  }

  /** The provider whose domain hints name this address's domain, if any. */
  async providerForEmail(tenantId: string, login: string | undefined) {
    const at = login?.trim().lastIndexOf('@') ?? -1;
    if (!login || at < 1) return undefined;
    const domain = login
      .trim()
      .slice(at + 1)
      .toLowerCase();
    if (!domain) return undefined;
    const rows = await this.upstream.listEnabled(tenantId);
    return rows.find((r) => (r.domain_hints ?? []).some((d) => d.toLowerCase() === domain));
  }

  error(
    at: Pick<ProviderAt, 'branding'>,
    status: number,
    code: string,
    message: string,
    back?: { href: string; text: string },
    setCookie?: string,
  ): PageReply {
    const title = status >= 500 ? 'Sign-in unavailable' : 'Sign-in not completed';
    return {
      status,
      html: upstreamErrorPage(at.branding, { title, message, code, back }),
      ...(setCookie ? { setCookie } : {}),
    };
  }

  /** Leaves for the upstream: a fresh state cookie and a redirect to its authorization URL. */
  async leave(at: ProviderAt, purpose: UpstreamPurpose, loginHint?: string): Promise<PageReply> {
    try {
      const { url, checks } = await this.client.authorizationUrl(at.row, at.redirectUri, loginHint);
      const setCookie = this.states.cookie(
        at.row.tenant_id,
        at.row.provider_id,
        at.cookiePath,
        { ...checks, ...purpose },
        at.row.response_mode === 'form_post',
      );
      return { status: 303, location: url.href, setCookie };
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) throw err;
      return this.error(at, err.status, err.code, err.message);
    }
  }

  /** GET start?interaction=<uid>: the sign-in page's button. */
  async start(
    tenantId: string,
    providerId: string,
    uid: unknown,
    loginHint?: string,
  ): Promise<PageReply> {
    const at = await this.provider(tenantId, providerId);
    if ('status' in at) return at;
    const l = typeof uid === 'string' ? await this.context.loadById(tenantId, uid) : undefined;
    if (!l) return this.error(at, 400, 'invalid_request', EXPIRED);
    return this.leave(at, { mode: 'sign-in', uid: l.uid }, loginHint ?? loginHintOf(l));
  }

  /**
   * The sign-in page of the interaction, as the way back from an error page; `choose` keeps a
   * login_hint's domain from sending the browser straight back to the same upstream.
   */
  private backTo(at: ProviderAt, uid: string) {
    return { href: `${at.basePath}/interaction/${uid}?${CHOOSE}=1`, text: 'Back to sign in' };
  }

  /**
   * GET|POST callback: the state cookie (this browser, this provider, unexpired), then the
   * upstream's answer. Answers the refusal page, the link-mode outcome (`link`), or the
   * interaction route that finishes the sign-in.
   */
  async callback(
    tenantId: string,
    providerId: string,
    params: URLSearchParams,
    http: PageRequest & { cookie: string | undefined },
    link: (
      at: ProviderAt,
      flow: UpstreamFlowState & { mode: 'link' },
      p: ReturnType<typeof profileOf>,
    ) => Promise<PageReply>,
  ): Promise<PageReply> {
    const at = await this.provider(tenantId, providerId);
    if ('status' in at) return at;
    const returned = params.get('state');
    if (!returned || returned.length > 512) return this.error(at, 400, 'invalid_state', EXPIRED);
    const clear = this.states.clear(at.cookiePath, returned);
    const flow = this.states.open(tenantId, providerId, returned, http.cookie);
    if (!flow || returned !== flow.state)
      return this.error(at, 400, 'invalid_state', EXPIRED, undefined, clear);
    const back = flow.mode === 'sign-in' ? this.backTo(at, flow.uid) : undefined;
    const upstreamError = params.get('error');
    if (upstreamError) {
      const description = params.get('error_description');
      const text = `${at.row.label} did not sign you in: ${description ? description.slice(0, 500) : upstreamError.slice(0, 100)}`;
      return this.error(at, 400, upstreamError.slice(0, 100), text, back, clear);
    }
    let profile: ReturnType<typeof profileOf>;
    try {
      profile = profileOf(at.row, await this.client.callback(at.row, at.redirectUri, params, flow));
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) throw err;
      return this.error(at, err.status, err.code, err.message, back, clear);
    }
    const page =
      flow.mode === 'link'
        ? await link(at, flow, profile)
        : await this.signedIn(at, flow, profile, http, back!);
    return { ...page, setCookie: clear };
  }

  private async signedIn(
    at: ProviderAt,
    flow: UpstreamFlowState & { mode: 'sign-in' },
    profile: ReturnType<typeof profileOf>,
    http: PageRequest,
    back: { href: string; text: string },
  ): Promise<PageReply> {
    const l = await this.context.loadById(at.row.tenant_id, flow.uid);
    if (!l) return this.error(at, 400, 'invalid_request', EXPIRED);
    const method = `upstream:${at.row.provider_id}`;
    const event = this.context.auditEvent(l, http, method);
    const ctx: AuditContext = { ip: http.ip, userAgent: http.userAgent };
    const fail = (reason: string, message: string, subjectId: string | null = null) => {
      this.audit.record({
        ...event,
        type: 'login.failure',
        subjectId,
        details: { ...event.details, reason, provider_id: at.row.provider_id },
      });
      return this.error(at, 403, 'access_denied', message, back);
    };
    const outcome = await this.signIn.resolve(at.row, l.settings, profile, ctx);
    if (outcome.kind === 'refused') return fail(outcome.reason, outcome.message);
    const { user } = outcome;
    if (user.is_disabled) return fail('refused', 'This account is disabled.', user.user_id);
    if ((await this.blocker.check(l.tenantId, { accountId: user.user_id })).blocked)
      return fail('blocked', 'This account is locked for now. Try again later.', user.user_id);
    await this.signIn.syncGroups(at.row, user.user_id, profile.groups, {
      ...ctx,
      actorType: 'user',
      actorId: user.user_id,
    });
    const result = this.states.sealResult(l.tenantId, l.uid, {
      accountId: user.user_id,
      providerId: at.row.provider_id,
      skipSecondFactor: at.row.second_factor === 'skip',
    });
    return {
      status: 303,
      location: `${l.actions.base}/upstream?result=${encodeURIComponent(result)}`,
    };
  }

  /** The interaction of a completion route, with the sealed result of its callback. */
  openResult(l: Loaded, value: unknown) {
    return this.states.openResult(l.tenantId, l.uid, value);
  }
}
