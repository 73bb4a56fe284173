import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { isDomainError } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LoginCodeService } from '../email-flows/login-code.service.js';
import { TotpService } from '../mfa/totp.service.js';
import type { TenantProvider } from '../oidc/oidc-providers.service.js';
import type { PolicyClient } from '../oidc/provider-config.js';
import { PasskeysService } from '../passkeys/passkeys.service.js';
import type { PageRequest } from '../hosted/kit/page-reply.js';
import { SignInCompletion } from '../hosted/interaction/completion.js';
import {
  InteractionContext,
  type Loaded,
  type SignedIn,
  type StepState,
} from '../hosted/interaction/interaction-context.js';
import { LoginMethods, type LoginMethod } from '../hosted/interaction/login-methods.js';
import type { PendingStage } from '../hosted/interaction/pending.js';
import { SignInRules, type AttemptOutcome } from '../hosted/interaction/sign-in-rules.js';
import { SignupStep } from '../hosted/interaction/signup.step.js';
import { PinPatternEnrolmentStep } from '../hosted/interaction/pin-pattern-enrolment.step.js';
import { authnProblem } from './headless-problems.js';
import {
  StipulationActions,
  type StipulationInput,
} from '../hosted/interaction/stipulation-actions.js';
import { StipulationRules, type Stipulation } from '../hosted/interaction/stipulations.js';

/** What every step answers: the next step, or where the browser goes to finish. */
export interface StepAnswer {
  auth_req_id: string;
  status: 'continue' | 'complete';
  /** The step the custom UI shows next (magic_link_code: the code the mailed link shows). */
  next?:
    | 'authenticate'
    | 'email_code'
    | 'magic_link_code'
    | 'second_factor'
    | 'enrol'
    | 'stipulation'
    | 'signup_passkey';
  /** The tenant's rule the user meets next (next = stipulation), through authn/stipulation. */
  stipulation?: Stipulation;
  /** The terms to accept (stipulation = accepted_terms). */
  terms?: { version: string; url: string | null };
  /** Registration options to answer (stipulation = passkey, next = signup_passkey). */
  passkey_options?: unknown;
  /** First-factor methods the tenant offers (next = authenticate). */
  methods?: string[];
  /** Whether this request may create an account (next = authenticate). */
  signup?: boolean;
  /** Sealed state of the sign-in so far; the next step sends it back. */
  step_token?: string;
  /** A new TOTP secret to confirm (next = enrol). */
  totp?: { secret: string; otpauth_uri: string };
  /** Shown once, after enrolment. */
  recovery_codes?: string[];
  /** The browser opens it; the provider redirects to the client with a code. */
  finish_url?: string;
  /**
   * Complete, and the tenant uses a PIN/pattern the user has not set: the custom UI may offer
   * it once signed in (`/authn/zkp/change/start` → `change` with the user's token).
   */
  pin_pattern_offer?: boolean;
}

/** A browser request's origin, when it sends one (fetch and forms do; native apps need not). */
export interface Caller extends PageRequest {
  origin?: string;
}

/**
 * The headless (JSON) sign-in: the steps of the hosted pages for a custom UI, bound to a
 * pending authorisation (`auth_req_id`, the provider's interaction id). Every rule is the
 * pages' own (SignInRules, SignupStep, SignInCompletion, the LoginMethods plug-ins); this
 * service only turns their outcomes into JSON answers and problems.
 */
@Injectable()
export class HeadlessSignIn {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly context: InteractionContext,
    private readonly rules: SignInRules,
    private readonly completion: SignInCompletion,
    private readonly methods: LoginMethods,
    private readonly signupStep: SignupStep,
    private readonly passkeys: PasskeysService,
    private readonly loginCodes: LoginCodeService,
    private readonly totp: TotpService,
    private readonly pinPattern: PinPatternEnrolmentStep,
    private readonly stipulations: StipulationRules,
    private readonly stipulationActions: StipulationActions,
  ) {}

  /**
   * The pending sign-in of `authReqId` in this tenant. A browser caller (one that sends
   * Origin) must come from the provider's own origin or one of the client's redirect URIs:
   * another site cannot drive a step with the user's cookies. The resume endpoint also
   * checks the browser's resume cookie, so an `auth_req_id` finishes only where it started.
   */
  async load(tenantId: string, authReqId: unknown, caller: Caller): Promise<Loaded> {
    const l =
      typeof authReqId === 'string' ? await this.context.loadById(tenantId, authReqId) : undefined;
    if (!l)
      throw authnProblem(
        'authn-request-not-found',
        'This sign-in request is unknown, has expired or is already finished; start again',
      );
    if (caller.origin !== undefined && !this.originAllowed(l.client, caller.origin))
      throw authnProblem('authn-origin-refused', `Origin ${caller.origin} may not sign in here`);
    if (l.interaction.prompt.name !== 'login')
      throw authnProblem(
        'authn-wrong-prompt',
        `This request waits for ${l.interaction.prompt.name}, not a sign-in; open finish_url`,
      );
    return l;
  }

  /** authn/start from a browser: the provider's own origin or one of the client's. */
  async assertStartOrigin(tenant: TenantProvider, clientId: string, origin: string | undefined) {
    if (origin === undefined) return;
    const client = (await tenant.provider.Client.find(clientId)) as unknown as
      PolicyClient | undefined;
    if (!this.originAllowed(client, origin))
      throw authnProblem('authn-origin-refused', `Origin ${origin} may not sign in here`);
  }

  private originAllowed(client: PolicyClient | undefined, origin: string): boolean {
    if (origin === new URL(this.config.publicUrl).origin) return true;
    return (client?.redirectUris ?? []).some((uri) => {
      try {
        return new URL(uri).origin === origin;
      } catch {
        return false;
      }
    });
  }

  /** identify: what the tenant offers; the same answer whether or not the login exists. */
  async identify(tenantId: string, authReqId: unknown, caller: Caller): Promise<StepAnswer> {
    const l = await this.load(tenantId, authReqId, caller);
    return this.authenticateNext(l);
  }

  private authenticateNext(l: Loaded): StepAnswer {
    return {
      auth_req_id: l.uid,
      status: 'continue',
      next: 'authenticate',
      methods: this.methods.forTenant(l.settings).map((m) => m.id),
      signup: this.signupStep.openOnPage(l),
    };
  }

  async password(
    tenantId: string,
    body: { auth_req_id: string; login: string; password: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const method = this.enabledMethod(l, 'password');
    const form = { login: body.login, password: body.password };
    return this.afterFirstFactor(l, caller, await this.rules.attempt(l, caller, method, form));
  }

  /**
   * Any other first-factor plug-in of LoginMethods (one registered after this API was written,
   * say): its form fields go to the method as the login page would post them.
   */
  async method(
    tenantId: string,
    body: { auth_req_id: string; method: string; fields: Record<string, unknown> },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const method = this.enabledMethod(l, body.method);
    // A method with its own step (a mailed code) is never one post.
    if (method.ownStep)
      throw authnProblem('authn-method-unavailable', `${method.id} has steps of its own`);
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(body.fields)) if (typeof v === 'string') form[k] = v;
    return this.afterFirstFactor(l, caller, await this.rules.attempt(l, caller, method, form));
  }

  /** Assertion options: discoverable (no login), or for the passkeys of `login` (decoys if none). */
  async passkeyOptions(
    tenantId: string,
    body: { auth_req_id?: string; login?: string },
    caller: Caller,
  ) {
    // Without a request: the options of the autofill a custom page starts on load.
    if (body.auth_req_id !== undefined)
      this.enabledMethod(await this.load(tenantId, body.auth_req_id, caller), 'passkey');
    return this.passkeys.authenticationOptions(tenantId, body.login?.trim() || undefined);
  }

  async passkeyVerify(
    tenantId: string,
    body: { auth_req_id: string; challenge_id: string; response: AuthenticationResponseJSON },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const method = this.enabledMethod(l, 'passkey');
    const form = { challenge_id: body.challenge_id, response: JSON.stringify(body.response) };
    return this.afterFirstFactor(l, caller, await this.rules.attempt(l, caller, method, form));
  }

  /** Mails a code when the address has an account; the answer is the same either way. */
  async emailCode(
    tenantId: string,
    body: { auth_req_id: string; email: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const method = this.enabledMethod(l, 'email_code');
    const email = body.email.trim();
    try {
      await this.loginCodes.issue(tenantId, email, caller.ip);
    } catch (err) {
      if (!isDomainError(err) || err.kind !== 'too-many') throw err;
      throw authnProblem('authn-rate-limited', 'Too many requests from your network; try later');
    }
    return this.continueWith(l, 'email_code', {
      stage: 'email_code',
      accountId: '',
      amr: [],
      method: method.id,
      email,
    });
  }

  async emailCodeVerify(
    tenantId: string,
    body: { auth_req_id: string; step_token: string; code: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const method = this.enabledMethod(l, 'email_code');
    const state = this.openStep(l, body.step_token, 'email_code');
    if (!state.email) throw this.stepExpired();
    const form = { email: state.email, code: body.code };
    return this.afterFirstFactor(l, caller, await this.rules.attempt(l, caller, method, form));
  }

  async secondFactor(
    tenantId: string,
    body: { auth_req_id: string; step_token: string; code: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const state = this.openStep(l, body.step_token, 'totp');
    const outcome = await this.rules.secondFactor(l, caller, state, body.code);
    if (outcome.kind === 'failed') throw authnProblem('authn-invalid-credentials', outcome.message);
    if (outcome.kind === 'refused')
      throw authnProblem('authn-account-refused', outcome.description);
    return this.completeOf(l, caller, outcome.state);
  }

  /** The tenant requires a second factor the user lacks: the first code of the new TOTP. */
  async enrol(
    tenantId: string,
    body: { auth_req_id: string; step_token: string; code: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const state = this.openStep(l, body.step_token, 'enrol');
    let codes: string[];
    try {
      const actor = this.context.actor(caller, state);
      codes = (await this.totp.confirm(tenantId, state.accountId, body.code, actor)).recovery_codes;
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.kind === 'too-many') throw err;
      throw authnProblem(
        'authn-invalid-credentials',
        'That code is not right; try the current one',
      );
    }
    const next = { accountId: state.accountId, amr: [...state.amr, 'otp'], method: 'totp' };
    return { ...(await this.completeOf(l, caller, next)), recovery_codes: codes };
  }

  /** The user gave up: the client hears access_denied. */
  async abort(tenantId: string, authReqId: string, caller: Caller): Promise<StepAnswer> {
    const l = await this.load(tenantId, authReqId, caller);
    const finishUrl = await this.context.finishById(l, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in.',
    });
    return { auth_req_id: l.uid, status: 'complete', finish_url: finishUrl };
  }

  /** The tenant's method `id`, else the method-unavailable problem. */
  enabledMethod(l: Loaded, id: string): LoginMethod {
    const method = this.methods.find(l.settings, id);
    if (!method)
      throw authnProblem('authn-method-unavailable', `Sign-in with ${id} is not offered here`);
    return method;
  }

  stepExpired() {
    return authnProblem('authn-step-expired', 'This step has expired; start the sign-in again');
  }

  /** The sealed state of a step (its step_token), else the expired-step problem. */
  openStep(l: Loaded, token: unknown, stage: PendingStage) {
    const state = this.context.openState(l, token, [stage]);
    if (!state) throw this.stepExpired();
    return state;
  }

  continueWith(l: Loaded, next: NonNullable<StepAnswer['next']>, state: StepState): StepAnswer {
    const { pending } = this.context.stepFields(l, state);
    return { auth_req_id: l.uid, status: 'continue', next, step_token: pending };
  }

  /** A first factor's outcome: a problem, or the step that follows it. */
  afterFirstFactor(l: Loaded, caller: Caller, outcome: AttemptOutcome) {
    if (outcome.kind === 'failed') throw authnProblem('authn-invalid-credentials', outcome.message);
    if (outcome.kind === 'refused')
      throw authnProblem('authn-account-refused', outcome.description);
    return this.progressOf(l, caller, outcome.state);
  }

  private async enrolStep(l: Loaded, state: SignedIn): Promise<StepAnswer> {
    const e = await this.totp.enrol(l.tenantId, state.accountId);
    const enrolment = { secret: e.secret, uri: e.otpauth_uri };
    return {
      ...this.continueWith(l, 'enrol', { ...state, stage: 'enrol', enrolment }),
      totp: { secret: e.secret, otpauth_uri: e.otpauth_uri },
    };
  }

  /** What SignInRules.nextStage says follows a first factor, as a JSON answer. */
  async progressOf(l: Loaded, caller: Caller, state: SignedIn): Promise<StepAnswer> {
    switch (await this.rules.nextStage(l, state)) {
      case 'totp':
        return this.continueWith(l, 'second_factor', { ...state, stage: 'totp' });
      case 'enrol':
        return this.enrolStep(l, state);
      case 'complete':
        return this.completeOf(l, caller, state);
    }
  }

  /**
   * The step of an unmet stipulation (next = stipulation): accept the terms, a new password,
   * or resend the verification mail; then the sign-in completes or the next rule is answered.
   */
  async stipulation(
    tenantId: string,
    body: { auth_req_id: string; step_token: string } & StipulationInput,
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.load(tenantId, body.auth_req_id, caller);
    const state = this.openStep(l, body.step_token, 'stipulation');
    const signedIn = { accountId: state.accountId, amr: state.amr, method: state.method };
    // The rule the input is for: the one its fields belong to (none: the address is checked).
    const rule: Stipulation =
      body.accept_terms !== undefined
        ? 'accepted_terms'
        : body.new_password !== undefined
          ? 'password_changed_after_reset'
          : body.passkey !== undefined
            ? 'passkey'
            : 'verified_email';
    const outcome = await this.stipulationActions.meet(l, caller, signedIn, { ...body, rule });
    if (outcome.kind === 'again') {
      if (outcome.status === 429) throw authnProblem('authn-rate-limited', outcome.error!);
      if (outcome.status >= 400)
        throw authnProblem('authn-stipulation-unmet', outcome.error ?? 'Not met yet');
      return this.stipulationStep(l, signedIn, outcome.rule);
    }
    return this.completeOf(l, caller, signedIn);
  }

  private async stipulationStep(
    l: Loaded,
    state: SignedIn,
    rule: Stipulation,
  ): Promise<StepAnswer> {
    const terms =
      rule === 'accepted_terms'
        ? {
            terms: {
              version: l.settings.terms_version,
              url: l.settings.terms_url ?? l.clientDisplay?.tosUri ?? null,
            },
          }
        : {};
    const passkey =
      rule === 'passkey'
        ? { passkey_options: await this.stipulationActions.passkeyOptions(l, state) }
        : {};
    return {
      ...this.continueWith(l, 'stipulation', { ...state, stage: 'stipulation' }),
      stipulation: rule,
      ...terms,
      ...passkey,
    };
  }

  /** The stipulations, then the answer that finishes the authorisation. */
  async completeOf(l: Loaded, caller: Caller, state: SignedIn): Promise<StepAnswer> {
    // The tenant's stipulations, as the pages have them (SignInCompletion): a second factor is
    // the usual enrolment step, the other rules the stipulation step.
    const unmet = await this.stipulations.unmet(l.tenantId, l.settings, state.accountId);
    if (unmet?.rule === 'second_factor') return this.enrolStep(l, state);
    if (unmet) return this.stipulationStep(l, state, unmet.rule);
    const offer = await this.pinPattern.offered(l, state);
    const result = await this.completion.record(l, caller, state);
    const finishUrl = await this.context.finishById(l, result);
    return {
      auth_req_id: l.uid,
      status: 'complete',
      finish_url: finishUrl,
      ...(offer ? { pin_pattern_offer: true } : {}),
    };
  }
}
