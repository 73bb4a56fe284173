import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import QRCode from 'qrcode';
import type { InteractionResults } from 'oidc-provider';
import { QueryFailedError } from 'typeorm';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import { AuditService } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { OidcProviders, type TenantProvider } from '../../oidc/oidc-providers.service.js';
import { clientDisplay, type PolicyClient } from '../../oidc/provider-config.js';
import { ProblemException } from '../../common/problem.js';
import { problemFromDatabaseError } from '../../common/problem.filter.js';
import { LoginCodeService } from '../../email-flows/login-code.service.js';
import { TotpService } from '../../mfa/totp.service.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { CreateUserDto } from '../../users/dto/user.dto.js';
import { UsersService } from '../../users/users.service.js';
import { InteractionCsrf } from '../kit/csrf.js';
import { EmailCodeLoginMethod } from './email-code.method.js';
import { LoginMethods, type LoginMethod, type Settings } from './login-methods.js';
import { PasskeyLoginMethod } from './passkey.method.js';
import { PasswordLoginMethod } from './password.method.js';
import { PendingLogins, type PendingLogin } from './pending.js';
import {
  emailCodeEntryPage,
  emailCodeRequestPage,
  enrolPage,
  recoveryCodesPage,
  signupPage,
  signupPasskeyPage,
  totpStepPage,
} from './step-views.js';
import { errorPage, messagePage, type Branding, type ClientDisplay } from '../kit/layout.js';
import { consentPage, loginPage } from './views.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';

type Interaction = Awaited<ReturnType<TenantProvider['provider']['interactionDetails']>>;

const UID = /^[A-Za-z0-9_-]{1,64}$/;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

const STEP_EXPIRED = 'This step has expired. Go back to the application and sign in again.';
const SIGNUP_OFF = 'Sign-up is not open for this organisation.';

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
  private readonly pending: PendingLogins;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly tenants: TenantsService,
    private readonly methods: LoginMethods,
    private readonly password: PasswordLoginMethod,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly passkeyMethod: PasskeyLoginMethod,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly emailCodeMethod: EmailCodeLoginMethod,
    private readonly loginCodes: LoginCodeService,
  ) {
    this.csrf = new InteractionCsrf(config.masterKey);
    this.pending = new PendingLogins(config.masterKey);
  }

  onModuleInit() {
    this.methods.register(this.password);
    this.methods.register(this.passkeyMethod);
    this.methods.register(this.emailCodeMethod);
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
    return {
      base,
      login: `${base}/login`,
      consent: `${base}/consent`,
      abort: `${base}/abort`,
      secondFactor: `${base}/second-factor`,
      enrol: `${base}/enrol`,
      continue: `${base}/continue`,
      signup: `${base}/signup`,
      signupPasskeyOptions: `${base}/signup/passkey-options`,
      signupPasskey: `${base}/signup/passkey`,
      emailCode: `${base}/login/email-code`,
      emailCodeVerify: `${base}/login/email-code/verify`,
      forgot: `${new URL(this.providers.issuerOf(tenantId)).pathname}/login/forgot`,
    };
  }

  private signupOpen(l: Loaded): boolean {
    return (
      l.settings.register_enable ||
      Boolean((l.client as { register_enable?: boolean } | undefined)?.register_enable)
    );
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
    const links = [
      ...(l.settings.password_enabled ? [{ href: actions.forgot, text: 'Forgot password?' }] : []),
      ...(this.signupOpen(l) ? [{ href: actions.signup, text: 'Create an account' }] : []),
    ];
    return {
      status,
      scripts: l.settings.passkey_enabled,
      html: loginPage(l.branding, {
        client,
        methods,
        error,
        abortAction: actions.abort,
        csrf,
        links,
      }),
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
    // A mailed code is typed on its own step, which carries the address sealed (verifyEmailCode).
    if (!method || method === this.emailCodeMethod)
      return this.renderLogin(tenantId, l, 'Choose a way to sign in.', 400);
    return this.attempt(tenantId, l, http, method, form, (message) =>
      this.renderLogin(tenantId, l, message, 401),
    );
  }

  /**
   * One sign-in attempt with `method`, through the blocker, the audit log and the metrics;
   * `retry` draws the page a failed attempt shows.
   */
  private async attempt(
    tenantId: string,
    l: Loaded,
    http: PageRequest,
    method: LoginMethod,
    form: Record<string, string>,
    retry: (message: string) => PageResult,
  ): Promise<PageResult> {
    const who = { ip: http.ip, username: method.loginName(form) ?? null };
    const event = {
      tenantId,
      method: method.id,
      ip: http.ip,
      userAgent: http.userAgent,
      subjectType: 'user',
      details: { client_id: l.interaction.params.client_id },
    };
    const check = await this.blocker.check(tenantId, who);
    if (check.blocked) {
      this.audit.record({
        ...event,
        type: 'login.failure',
        details: { ...event.details, reason: 'blocked' },
      });
      this.metrics.signIn('failure', method.id);
      return retry(method.failureMessage);
    }
    const outcome = await method.authenticate(tenantId, form, l.settings, http);
    switch (outcome.status) {
      case 'failed':
        // Counted for the login as typed and for the account it named: a username and an
        // email of one person share the account's counter.
        if (!method.guardsItself)
          await this.blocker.recordFailure(tenantId, {
            ...who,
            accountId: outcome.accountId,
            method: method.id,
          });
        this.audit.record({
          ...event,
          type: 'login.failure',
          subjectId: outcome.accountId ?? null,
          details: { ...event.details, reason: 'invalid_credentials' },
        });
        this.metrics.signIn('failure', method.id);
        return retry(outcome.message);
      case 'refused':
        this.audit.record({
          ...event,
          type: 'login.failure',
          subjectId: outcome.accountId,
          details: { ...event.details, reason: 'refused' },
        });
        this.metrics.signIn('failure', method.id);
        return this.error(l.branding, 403, 'access_denied', outcome.description);
      case 'success': {
        if (!method.guardsItself) {
          // The account is known only now: blocked under another login, the right password
          // still fails (the same answer as a wrong one).
          const account = { accountId: outcome.accountId };
          const accountCheck = await this.blocker.check(tenantId, account);
          if (accountCheck.blocked) {
            this.audit.record({
              ...event,
              type: 'login.failure',
              subjectId: outcome.accountId,
              details: { ...event.details, reason: 'blocked' },
            });
            this.metrics.signIn('failure', method.id);
            return retry(method.failureMessage);
          }
          // With the checks: nothing to forgive costs no store round trip.
          await this.blocker.recordSuccess(tenantId, who, check);
          await this.blocker.recordSuccess(tenantId, account, accountCheck);
        }
        return this.afterFirstFactor(tenantId, l, http, {
          accountId: outcome.accountId,
          amr: outcome.amr,
          method: method.id,
        });
      }
    }
  }

  // ---- sign-in code by email

  private renderEmailCodeRequest(
    tenantId: string,
    l: Loaded,
    email?: string,
    error?: string,
    status = 200,
  ): PageResult {
    const actions = this.actions(tenantId, l.interaction.uid);
    return {
      status,
      html: emailCodeRequestPage(l.branding, {
        action: actions.emailCode,
        fields: { csrf: this.csrf.token(tenantId, l.interaction.uid) },
        loginHref: actions.base,
        email,
        error,
      }),
    };
  }

  private renderEmailCodeEntry(
    tenantId: string,
    l: Loaded,
    email: string,
    error?: string,
    status = 200,
  ): PageResult {
    const actions = this.actions(tenantId, l.interaction.uid);
    return {
      status,
      html: emailCodeEntryPage(l.branding, {
        action: actions.emailCodeVerify,
        fields: this.stepFields(tenantId, l, {
          stage: 'email_code',
          accountId: '',
          amr: [],
          method: this.emailCodeMethod.id,
          email,
        }),
        email,
        requestHref: actions.emailCode,
        loginHref: actions.base,
        error,
        abortAction: actions.abort,
      }),
    };
  }

  /** Loads a login-prompt interaction whose tenant offers sign-in codes; a page instead. */
  private async loadEmailCode(
    tenantId: string,
    uid: string,
    http: PageRequest,
    form?: Record<string, string>,
  ): Promise<Loaded | PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    if (form) {
      const bad = this.checkCsrf(tenantId, l, form);
      if (bad) return bad;
    }
    if (l.interaction.prompt.name !== 'login') return this.show(tenantId, uid, http);
    if (!this.methods.find(l.settings, this.emailCodeMethod.id))
      return this.error(
        l.branding,
        403,
        'access_denied',
        'Sign-in codes by email are not available.',
      );
    return l;
  }

  /** GET login/email-code: asks for the address. */
  async showEmailCode(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.loadEmailCode(tenantId, uid, http);
    if ('status' in l) return l;
    const hint = l.interaction.params.login_hint;
    return this.renderEmailCodeRequest(
      tenantId,
      l,
      typeof hint === 'string' && hint.includes('@') ? hint : undefined,
    );
  }

  /**
   * POST login/email-code: mails a code when the address has an account. The answer is the
   * same page either way (LoginCodeService looks the address up after answering).
   */
  async requestEmailCode(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.loadEmailCode(tenantId, uid, http, form);
    if ('status' in l) return l;
    const email = str(form.email).trim();
    if (!email || email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email))
      return this.renderEmailCodeRequest(tenantId, l, email, 'Enter your email address.', 400);
    try {
      await this.loginCodes.issue(tenantId, email, http.ip);
    } catch (err) {
      // Over the per-IP limit: it is about the network, never about the address.
      if (!(err instanceof ProblemException) || err.status !== 429) throw err;
      return this.renderEmailCodeRequest(
        tenantId,
        l,
        email,
        'Too many requests from your network. Try again later.',
        429,
      );
    }
    return this.renderEmailCodeEntry(tenantId, l, email);
  }

  /** POST login/email-code/verify: the code, checked like any first factor. */
  async verifyEmailCode(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.loadEmailCode(tenantId, uid, http, form);
    if ('status' in l) return l;
    const state = this.pending.open(tenantId, uid, form.pending, ['email_code']);
    if (!state?.email) return this.error(l.branding, 400, 'invalid_request', STEP_EXPIRED);
    const email = state.email;
    return this.attempt(
      tenantId,
      l,
      http,
      this.emailCodeMethod,
      { email, code: str(form.code) },
      // A mistyped code is typed again on the code page; the mailed code stays valid.
      (message) => this.renderEmailCodeEntry(tenantId, l, email, message, 401),
    );
  }

  // ---- second factor, enrolment at sign-in, sign-up

  private auditEvent(tenantId: string, l: Loaded, http: PageRequest, method: string) {
    return {
      tenantId,
      method,
      ip: http.ip,
      userAgent: http.userAgent,
      subjectType: 'user',
      details: { client_id: l.interaction.params.client_id },
    };
  }

  /**
   * A first factor passed. A passkey (possession plus user verification) is enough on its
   * own; a password is followed by the user's TOTP, or by enrolment when the tenant requires
   * a second factor the user does not have yet.
   */
  private async afterFirstFactor(
    tenantId: string,
    l: Loaded,
    http: PageRequest,
    state: { accountId: string; amr: string[]; method: string },
  ): Promise<PageResult> {
    const strong = state.amr.includes('hwk');
    if (!strong && (await this.totp.hasSecondFactor(tenantId, state.accountId))) {
      return this.renderTotpStep(tenantId, l, { ...state, stage: 'totp' });
    }
    if (!strong && l.settings.is_2fa) {
      const enrolment = await this.totp.enrol(tenantId, state.accountId);
      return this.renderEnrol(tenantId, l, {
        ...state,
        stage: 'enrol',
        enrolment: { secret: enrolment.secret, uri: enrolment.otpauth_uri },
      });
    }
    return this.complete(tenantId, l, http, state);
  }

  /** Every step passed: audit, metrics, the session's sign-in record, back to the provider. */
  private async complete(
    tenantId: string,
    l: Loaded,
    http: PageRequest,
    state: { accountId: string; amr: string[]; method: string },
  ): Promise<PageResult> {
    const event = this.auditEvent(tenantId, l, http, state.method);
    this.audit.record({
      ...event,
      type: 'login.success',
      actorType: 'user',
      actorId: state.accountId,
      subjectId: state.accountId,
      details: { ...event.details, amr: state.amr },
    });
    this.metrics.signIn('success', state.method);
    const ts = await this.sessions.recordSignIn(tenantId, state.accountId, http.ip, http.userAgent);
    return this.finish(
      l,
      http,
      { login: { accountId: state.accountId, amr: state.amr, remember: true, ts } },
      false,
    );
  }

  /** How the factor services audit a change the signing-in user makes. */
  private actor(http: PageRequest, state: { accountId: string }) {
    return {
      ip: http.ip,
      userAgent: http.userAgent,
      actorType: 'user' as const,
      actorId: state.accountId,
    };
  }

  private stepFields(tenantId: string, l: Loaded, state: Omit<PendingLogin, 'expires'>) {
    const uid = l.interaction.uid;
    return {
      csrf: this.csrf.token(tenantId, uid),
      pending: this.pending.seal(tenantId, uid, state),
    };
  }

  private renderTotpStep(
    tenantId: string,
    l: Loaded,
    state: Omit<PendingLogin, 'expires'>,
    error?: string,
    status = 200,
  ): PageResult {
    const actions = this.actions(tenantId, l.interaction.uid);
    return {
      status,
      html: totpStepPage(l.branding, {
        action: actions.secondFactor,
        fields: this.stepFields(tenantId, l, state),
        error,
        abortAction: actions.abort,
      }),
    };
  }

  private async renderEnrol(
    tenantId: string,
    l: Loaded,
    state: Omit<PendingLogin, 'expires'>,
    error?: string,
    status = 200,
  ): Promise<PageResult> {
    const actions = this.actions(tenantId, l.interaction.uid);
    const { secret, uri } = state.enrolment!;
    return {
      status,
      html: enrolPage(l.branding, {
        action: actions.enrol,
        fields: this.stepFields(tenantId, l, state),
        secret,
        uri,
        qr: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M' }),
        error,
        abortAction: actions.abort,
      }),
    };
  }

  /** Loads the interaction of a step after the login form; a page instead when it is not one. */
  private async loadStep(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
    stages: PendingLogin['stage'][],
  ): Promise<{ l: Loaded; state: PendingLogin } | PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    const bad = this.checkCsrf(tenantId, l, form);
    if (bad) return bad;
    if (l.interaction.prompt.name !== 'login') return this.show(tenantId, uid, http);
    const state = this.pending.open(tenantId, uid, form.pending, stages);
    if (!state) return this.error(l.branding, 400, 'invalid_request', STEP_EXPIRED);
    return { l, state };
  }

  /**
   * POST second-factor: a TOTP code, or a recovery code (anything that is not six digits).
   * Wrong codes count in the brute-force blocker under the user's name and land in the audit
   * log; TotpService also pauses the user after a few wrong codes in a row.
   */
  async secondFactor(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.loadStep(tenantId, uid, form, http, ['totp']);
    if ('status' in step) return step;
    const { l, state } = step;
    const code = typeof form.code === 'string' ? form.code.trim().slice(0, 64) : '';
    const kind = /^\d{6}$/.test(code.replace(/\s/g, '')) ? 'totp' : 'recovery_code';
    const user = await this.users.getEntity(tenantId, state.accountId);
    if (!user || user.is_disabled)
      return this.error(l.branding, 403, 'access_denied', 'This account is disabled.');
    const who = { ip: http.ip, username: user.username };
    const event = this.auditEvent(tenantId, l, http, kind);
    const wrong = 'The code is wrong or was already used.';
    const fail = async (reason: string) => {
      this.audit.record({
        ...event,
        type: 'login.failure',
        subjectId: state.accountId,
        details: { ...event.details, reason },
      });
      this.metrics.signIn('failure', kind);
      return this.renderTotpStep(tenantId, l, state, wrong, 401);
    };
    if (!code) return this.renderTotpStep(tenantId, l, state, 'Enter a code.', 400);
    const check = await this.blocker.check(tenantId, who);
    if (check.blocked) return fail('blocked');
    const ok =
      kind === 'totp'
        ? await this.totp.verifyTotp(tenantId, state.accountId, code)
        : await this.totp.consumeRecoveryCode(tenantId, state.accountId, code);
    if (!ok) {
      await this.blocker.recordFailure(tenantId, { ...who, method: kind });
      return fail('invalid_credentials');
    }
    await this.blocker.recordSuccess(tenantId, who, check);
    return this.complete(tenantId, l, http, {
      accountId: state.accountId,
      amr: [...state.amr, kind === 'totp' ? 'otp' : 'kba'],
      method: kind,
    });
  }

  /** POST enrol: the first code of the new authenticator turns TOTP on; recovery codes follow. */
  async enrol(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.loadStep(tenantId, uid, form, http, ['enrol']);
    if ('status' in step) return step;
    const { l, state } = step;
    const code = typeof form.code === 'string' ? form.code.slice(0, 64) : '';
    let codes: string[];
    try {
      codes = (await this.totp.confirm(tenantId, state.accountId, code, this.actor(http, state)))
        .recovery_codes;
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      const message =
        err.status === 429
          ? 'Too many wrong codes. Wait a few minutes, then try again.'
          : 'That code is not right. Check the time on your device and try the current code.';
      return this.renderEnrol(tenantId, l, state, message, err.status === 429 ? 429 : 400);
    }
    const actions = this.actions(tenantId, uid);
    return {
      status: 200,
      html: recoveryCodesPage(l.branding, {
        action: actions.continue,
        fields: this.stepFields(tenantId, l, {
          stage: 'done',
          accountId: state.accountId,
          amr: [...state.amr, 'otp'],
          method: 'totp',
        }),
        codes,
      }),
    };
  }

  /** POST continue: after the recovery codes (done), or past the passkey offer of sign-up. */
  async continue(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.loadStep(tenantId, uid, form, http, ['done', 'signup']);
    if ('status' in step) return step;
    const { l, state } = step;
    const next = { accountId: state.accountId, amr: state.amr, method: state.method };
    if (state.stage === 'signup') return this.afterFirstFactor(tenantId, l, http, next);
    return this.complete(tenantId, l, http, next);
  }

  /**
   * POST login/passkey-options: assertion options (JSON) for a discoverable passkey, or for the
   * passkeys of the username typed in the login field.
   */
  async passkeyLoginOptions(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return { status: l.status, json: { error: 'invalid_request' } };
    if (!this.csrf.verify(tenantId, l.interaction.uid, form.csrf))
      return { status: 403, json: { error: 'invalid_request' } };
    if (!l.settings.passkey_enabled) return { status: 403, json: { error: 'access_denied' } };
    // With a typed username: that user's passkeys (unknown users get decoy options).
    const login = str(form.login).trim();
    if (login.length > 254) return { status: 400, json: { error: 'invalid_request' } };
    return {
      status: 200,
      json: await this.passkeys.authenticationOptions(tenantId, login || undefined),
    };
  }

  private renderSignup(
    tenantId: string,
    l: Loaded,
    error?: string,
    values?: { username?: string; email?: string },
    status = 200,
  ): PageResult {
    const actions = this.actions(tenantId, l.interaction.uid);
    return {
      status,
      html: signupPage(l.branding, {
        action: actions.signup,
        fields: { csrf: this.csrf.token(tenantId, l.interaction.uid) },
        loginHref: actions.base,
        error,
        values,
        minLength: l.settings.password_min_length,
      }),
    };
  }

  /** GET signup. */
  async showSignup(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if ('status' in l) return l;
    if (l.interaction.prompt.name !== 'login') return this.show(tenantId, uid, http);
    if (!this.signupOpen(l) || !l.settings.password_enabled)
      return this.error(l.branding, 403, 'access_denied', SIGNUP_OFF);
    return this.renderSignup(tenantId, l);
  }

  /**
   * POST signup: username, email and password under the directory's rules. Taken names are
   * said so plainly: a sign-up form cannot hide who is registered without mailing first.
   */
  async signup(
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
    if (!this.signupOpen(l) || !l.settings.password_enabled)
      return this.error(l.branding, 403, 'access_denied', SIGNUP_OFF);
    const values = { username: str(form.username).trim(), email: str(form.email).trim() };
    const dto = plainToInstance(CreateUserDto, { ...values, password: str(form.password) });
    const problems = await validate(dto, { whitelist: true, forbidUnknownValues: true });
    if (!values.username || !values.email || !dto.password || problems.length) {
      const fields = problems.map((p) => p.property).filter((f) => f !== 'password');
      const message = fields.length
        ? `Check the ${fields.join(' and ')}.`
        : `Enter a username, an email address and a password of at least ${l.settings.password_min_length} characters.`;
      return this.renderSignup(tenantId, l, message, values, 400);
    }
    let userId: string;
    try {
      userId = (await this.users.create(tenantId, dto)).user_id;
    } catch (caught) {
      const err = caught instanceof QueryFailedError ? problemFromDatabaseError(caught) : caught;
      if (!(err instanceof ProblemException)) throw caught;
      const message =
        err.status === 409
          ? 'That username or email address is already registered. Sign in instead, or reset your password.'
          : err.status === 400
            ? `The password does not meet the policy: at least ${l.settings.password_min_length} characters.`
            : err.message;
      return this.renderSignup(tenantId, l, message, values, err.status === 409 ? 409 : 400);
    }
    this.audit.record({
      ...this.auditEvent(tenantId, l, http, 'password'),
      type: 'user.signup',
      actorType: 'user',
      actorId: userId,
      subjectId: userId,
    });
    const state = { stage: 'signup' as const, accountId: userId, amr: ['pwd'], method: 'password' };
    if (!l.settings.passkey_enabled) {
      return this.afterFirstFactor(tenantId, l, http, state);
    }
    return this.renderSignupPasskey(tenantId, l, state);
  }

  private renderSignupPasskey(
    tenantId: string,
    l: Loaded,
    state: Omit<PendingLogin, 'expires'>,
    error?: string,
    status = 200,
  ): PageResult {
    const actions = this.actions(tenantId, l.interaction.uid);
    return {
      status,
      scripts: true,
      html: signupPasskeyPage(l.branding, {
        optionsAction: actions.signupPasskeyOptions,
        registerAction: actions.signupPasskey,
        continueAction: actions.continue,
        fields: this.stepFields(tenantId, l, state),
        error,
      }),
    };
  }

  /** POST signup/passkey-options: registration options for the account just created (JSON). */
  async signupPasskeyOptions(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.loadStep(tenantId, uid, form, http, ['signup']);
    if ('status' in step || 'location' in step)
      return { status: 'status' in step ? step.status : 400, json: { error: 'invalid_request' } };
    try {
      return {
        status: 200,
        json: await this.passkeys.registrationOptions(tenantId, step.state.accountId),
      };
    } catch (err) {
      if (err instanceof ProblemException)
        return { status: err.status, json: { error: err.message } };
      throw err;
    }
  }

  /** POST signup/passkey: the new passkey signs the user in (it is a strong factor). */
  async signupPasskey(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.loadStep(tenantId, uid, form, http, ['signup']);
    if ('status' in step) return step;
    const { l, state } = step;
    const raw = typeof form.response === 'string' ? form.response : '';
    let response: RegistrationResponseJSON | undefined;
    try {
      response =
        raw && raw.length < 64 * 1024 ? (JSON.parse(raw) as RegistrationResponseJSON) : undefined;
    } catch {
      response = undefined;
    }
    const failed = 'The passkey could not be added. Try again, or continue without one.';
    if (!response || typeof response !== 'object')
      return this.renderSignupPasskey(tenantId, l, state, failed, 400);
    try {
      await this.passkeys.verifyRegistration(
        tenantId,
        state.accountId,
        form.challenge_id,
        response,
        'Passkey',
        this.actor(http, state),
      );
    } catch (err) {
      if (!(err instanceof ProblemException)) throw err;
      return this.renderSignupPasskey(tenantId, l, state, failed, 400);
    }
    return this.complete(tenantId, l, http, {
      accountId: state.accountId,
      amr: ['hwk', 'mfa'],
      method: 'passkey',
    });
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
