import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { InteractionResults } from 'oidc-provider';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { AuditService } from '../audit/audit.service.js';
import { BlockerService } from '../blocker/blocker.service.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OidcProviders, type TenantProvider } from '../oidc/oidc-providers.service.js';
import { clientDisplay, type PolicyClient } from '../oidc/provider-config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { InteractionCsrf } from './csrf.js';
import { LoginMethods, type Settings } from './login-methods.js';
import { PasswordLoginMethod } from './password.method.js';
import {
  consentPage,
  errorPage,
  loginPage,
  messagePage,
  type Branding,
  type ClientDisplay,
} from './views.js';

/** What a hosted-page request answers: a page, or a redirect back into the provider. */
export type PageResult = { status: number; html: string } | { status: 303; location: string };

/** The request as the pages need it: raw objects for oidc-provider, the caller for audit and blocker. */
export interface PageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  ip: string | null;
  userAgent: string | null;
}

type Interaction = Awaited<ReturnType<TenantProvider['provider']['interactionDetails']>>;

const UID = /^[A-Za-z0-9_-]{1,64}$/;

const EXPIRED =
  'This sign-in request has expired or was started in another browser. Go back to the application and sign in again.';

interface Loaded {
  tenant: TenantProvider;
  settings: Settings;
  branding: Branding;
  interaction: Interaction;
  client?: PolicyClient;
}

/**
 * The hosted login and consent pages of oidc-provider interactions. Each step loads the
 * interaction from the provider (bound to this browser by its signed cookie), checks the form's
 * CSRF token against the interaction uid, and finishes with an interaction result that sends the
 * browser back to the provider's resume endpoint.
 */
@Injectable()
export class LoginService implements OnModuleInit {
  private readonly logger = new Logger('LoginService');
  private readonly csrf: InteractionCsrf;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly tenants: TenantsService,
    private readonly methods: LoginMethods,
    private readonly password: PasswordLoginMethod,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {
    this.csrf = new InteractionCsrf(config.masterKey);
  }

  onModuleInit() {
    this.methods.register(this.password);
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

  private error(b: Branding, status: number, error: string, description: string): PageResult {
    return { status, html: errorPage(b, error, description) };
  }

  /** Loads the tenant and this browser's interaction; a page to show instead when it cannot. */
  private async load(
    tenantId: string,
    uid: string,
    http: PageRequest,
  ): Promise<Loaded | PageResult> {
    if (!isValidTenantId(tenantId) || !UID.test(uid)) return this.notFound();
    const tenant = await this.providers.get(tenantId);
    if (!tenant) return this.notFound();
    const settings = await this.tenants.settings(tenantId);
    const branding = tenant.branding;
    let interaction: Interaction;
    try {
      interaction = await tenant.provider.interactionDetails(http.req, http.res);
    } catch {
      return this.error(branding, 400, 'invalid_request', EXPIRED);
    }
    if (interaction.uid !== uid) return this.error(branding, 400, 'invalid_request', EXPIRED);
    const clientId = interaction.params.client_id;
    const client =
      typeof clientId === 'string'
        ? ((await tenant.provider.Client.find(clientId)) as unknown as PolicyClient | undefined)
        : undefined;
    return { tenant, settings, branding, interaction, client };
  }

  private actions(tenantId: string, uid: string) {
    const base = `${new URL(this.providers.issuerOf(tenantId)).pathname}/interaction/${uid}`;
    return { login: `${base}/login`, consent: `${base}/consent`, abort: `${base}/abort` };
  }

  private renderLogin(tenantId: string, l: Loaded, error?: string, status = 200): PageResult {
    const uid = l.interaction.uid;
    const csrf = this.csrf.token(tenantId, uid);
    const actions = this.actions(tenantId, uid);
    const hint = l.interaction.params.login_hint;
    const methods = this.methods.forTenant(l.settings).map((m) =>
      m.render({
        tenantId,
        uid,
        action: actions.login,
        csrf,
        loginHint: typeof hint === 'string' ? hint : undefined,
        settings: l.settings,
      }),
    );
    if (!methods.length) {
      return this.error(
        l.branding,
        403,
        'access_denied',
        'No sign-in method is enabled for this organisation.',
      );
    }
    const client: ClientDisplay | undefined = clientDisplay(l.client);
    return {
      status,
      html: loginPage(l.branding, { client, methods, error, abortAction: actions.abort, csrf }),
    };
  }

  private renderConsent(tenantId: string, l: Loaded): PageResult {
    const uid = l.interaction.uid;
    const csrf = this.csrf.token(tenantId, uid);
    const actions = this.actions(tenantId, uid);
    const details = l.interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const scopes = [
      ...(details.missingOIDCScope ?? []),
      ...Object.values(details.missingResourceScopes ?? {}).flat(),
    ];
    return {
      status: 200,
      html: consentPage(l.branding, {
        client: clientDisplay(l.client),
        scopes: [...new Set(scopes)],
        claims: (details.missingOIDCClaims ?? []).filter(
          (c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c),
        ),
        action: actions.consent,
        abortAction: actions.abort,
        csrf,
      }),
    };
  }

  /** GET: the page the provider sent the browser to. */
  async show(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    switch (l.interaction.prompt.name) {
      case 'login':
        return this.renderLogin(tenantId, l);
      case 'consent':
        // First-party apps are trusted: asked for consent (prompt=consent), they get it.
        if (l.client?.first_party) return this.grantConsent(l, http);
        return this.renderConsent(tenantId, l);
      default:
        return this.error(
          l.branding,
          400,
          'invalid_request',
          'This sign-in step is not supported.',
        );
    }
  }

  private checkCsrf(
    tenantId: string,
    l: Loaded,
    form: Record<string, string>,
  ): PageResult | undefined {
    if (this.csrf.verify(tenantId, l.interaction.uid, form.csrf)) return undefined;
    return this.error(
      l.branding,
      403,
      'invalid_request',
      'The form has expired. Go back to the application and try again.',
    );
  }

  private async finish(
    l: Loaded,
    http: PageRequest,
    result: InteractionResults,
    merge = true,
  ): Promise<PageResult> {
    const location = await l.tenant.provider.interactionResult(http.req, http.res, result, {
      mergeWithLastSubmission: merge,
    });
    return { status: 303, location };
  }

  /**
   * POST login: one method checks its part of the form. Every attempt, whatever the method,
   * passes the brute-force blocker first and lands in the audit log (which feeds analytics).
   * A blocked attempt looks exactly like a wrong password.
   */
  async login(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    const bad = this.checkCsrf(tenantId, l, form);
    if (bad) return bad;
    if (l.interaction.prompt.name !== 'login') return this.show(tenantId, uid, http);
    const method = this.methods.find(l.settings, form.method);
    if (!method) return this.renderLogin(tenantId, l, 'Choose a way to sign in.', 400);
    const who = { ip: http.ip, username: method.loginName(form) ?? null };
    const event = {
      tenantId,
      method: method.id,
      ip: http.ip,
      userAgent: http.userAgent,
      subjectType: 'user',
      details: { client_id: l.interaction.params.client_id },
    };
    if ((await this.blocker.check(tenantId, who)).blocked) {
      this.audit.record({
        ...event,
        type: 'login.failure',
        details: { ...event.details, reason: 'blocked' },
      });
      this.metrics.signIn('failure', method.id);
      return this.renderLogin(tenantId, l, method.failureMessage, 401);
    }
    const outcome = await method.authenticate(tenantId, form, l.settings);
    switch (outcome.status) {
      case 'failed':
        await this.blocker.recordFailure(tenantId, { ...who, method: method.id });
        this.audit.record({
          ...event,
          type: 'login.failure',
          subjectId: outcome.accountId ?? null,
          details: { ...event.details, reason: 'invalid_credentials' },
        });
        this.metrics.signIn('failure', method.id);
        return this.renderLogin(tenantId, l, outcome.message, 401);
      case 'refused':
        this.audit.record({
          ...event,
          type: 'login.failure',
          subjectId: outcome.accountId,
          details: { ...event.details, reason: 'refused' },
        });
        this.metrics.signIn('failure', method.id);
        return this.error(l.branding, 403, 'access_denied', outcome.description);
      case 'success':
        await this.blocker.recordSuccess(tenantId, who);
        this.audit.record({
          ...event,
          type: 'login.success',
          actorType: 'user',
          actorId: outcome.accountId,
          subjectId: outcome.accountId,
        });
        this.metrics.signIn('success', method.id);
        return this.finish(
          l,
          http,
          { login: { accountId: outcome.accountId, amr: outcome.amr, remember: true } },
          false,
        );
    }
  }

  /** POST consent: grant what the prompt found missing. */
  async consent(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    const bad = this.checkCsrf(tenantId, l, form);
    if (bad) return bad;
    if (l.interaction.prompt.name !== 'consent') return this.show(tenantId, uid, http);
    return this.grantConsent(l, http);
  }

  private async grantConsent(l: Loaded, http: PageRequest): Promise<PageResult> {
    const { provider } = l.tenant;
    const { interaction } = l;
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant =
      (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ??
      new provider.Grant({
        accountId: interaction.session!.accountId,
        clientId: interaction.params.client_id as string,
      });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return this.finish(l, http, { consent: { grantId } });
  }

  /** POST abort: the user cancelled; the client hears access_denied. */
  async abort(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    const bad = this.checkCsrf(tenantId, l, form);
    if (bad) return bad;
    return this.finish(
      l,
      http,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in.' },
      false,
    );
  }

  /** Unexpected failures still answer a page, never a JSON problem in the middle of a sign-in. */
  unexpected(err: unknown): PageResult {
    this.logger.error({ err }, 'hosted login page failed');
    return {
      status: 500,
      html: errorPage(
        { tenantId: '', displayName: 'Sign in', logoUrl: null, primaryColor: null },
        'server_error',
        'Something went wrong on our side. Try again later.',
      ),
    };
  }
}
