import { Injectable } from '@nestjs/common';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { QueryFailedError } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { STATUS_OF_KIND } from '../../common/problem.js';
import { problemFromDatabaseError } from '../../common/problem.filter.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { CreateUserDto } from '../../users/dto/user.dto.js';
import { UsersService } from '../../users/users.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { InteractionContext, isPage, type Loaded, type StepState } from './interaction-context.js';
import { SignInProgress } from './progress.js';
import { signupPage, signupPasskeyPage } from './step-views.js';

const SIGNUP_OFF = 'Sign-up is not open for this organisation.';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Sign-up during a sign-in: username, email and password under the directory's rules, then
 * an optional passkey (which signs the new user in on its own), then the usual checks.
 */
@Injectable()
export class SignupStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly progress: SignInProgress,
    private readonly completion: SignInCompletion,
    private readonly users: UsersService,
    private readonly passkeys: PasskeysService,
    private readonly audit: AuditService,
    private readonly emailFlows: EmailFlowsService,
  ) {}

  /** GET signup. */
  async show(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    return isPage(l) ? l : this.render(l);
  }

  /**
   * POST signup: username, email and password under the directory's rules. Taken names are
   * said so plainly: a sign-up form cannot hide who is registered without mailing first.
   */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const created = await this.createAccount(l, http, form);
    if (created.kind === 'rejected')
      return this.render(l, created.message, created.values, created.status);
    const { state } = created;
    if (this.passkeyOnly(l)) return this.renderPasskey(l, state);
    if (!l.settings.passkey_enabled) return this.progress.next(l, http, state);
    return this.renderPasskey(l, state);
  }

  /**
   * The account of a sign-up: username, email and password under the directory's rules,
   * audited. The pages and the headless API (src/headless) both create accounts here.
   */
  async createAccount(l: Loaded, http: PageRequest, form: Record<string, string>) {
    const min = l.settings.password_min_length;
    const email = str(form.email).trim();
    // One identifier (has_username_and_email off): the email address is the username.
    const username = l.settings.has_username_and_email ? str(form.username).trim() : email;
    const values = { username, email };
    const reject = (message: string, status: 400 | 409, fields: string[] = []) => ({
      kind: 'rejected' as const,
      message,
      status,
      values,
      fields,
    });
    // Passkey-only tenants: no password; the passkey of the next page is the credential.
    const passwordless = this.passkeyOnly(l);
    const dto = plainToInstance(CreateUserDto, {
      ...values,
      ...(passwordless ? {} : { password: str(form.password) }),
    });
    const problems = await validate(dto, { whitelist: true, forbidUnknownValues: true });
    if (!values.username || !values.email || (!passwordless && !dto.password) || problems.length) {
      // One identifier: the username is the address, so its problems are the address's.
      const named = problems.map((p) =>
        !l.settings.has_username_and_email && p.property === 'username' ? 'email' : p.property,
      );
      const fields = [...new Set(named)].filter((f) => f !== 'password');
      const message = fields.length
        ? `Check the ${fields.join(' and ')}.`
        : passwordless
          ? 'Enter a username and an email address.'
          : `Enter a username, an email address and a password of at least ${min} characters.`;
      return reject(message, 400, fields);
    }
    let userId: string;
    try {
      userId = (await this.users.create(l.tenantId, dto)).user_id;
    } catch (caught) {
      const err = caught instanceof QueryFailedError ? problemFromDatabaseError(caught) : caught;
      if (!isDomainError(err)) throw caught;
      if (err.kind === 'conflict') {
        const taken =
          'That username or email address is already registered. Sign in instead, or reset your password.';
        return reject(taken, 409);
      }
      const message =
        err.kind === 'invalid'
          ? `The password does not meet the policy: at least ${min} characters.`
          : err.message;
      return reject(message, 400, err.kind === 'invalid' ? ['password'] : []);
    }
    this.audit.record({
      ...this.context.auditEvent(l, http, passwordless ? 'passkey' : 'password'),
      type: 'user.signup',
      actorType: 'user',
      actorId: userId,
      subjectId: userId,
    });
    await this.sendVerification(l.tenantId, userId, http.ip);
    // Passkey-only: no amr until the passkey is registered (continue refuses an empty one).
    const state = passwordless
      ? { stage: 'signup' as const, accountId: userId, amr: [] as string[], method: 'passkey' }
      : { stage: 'signup' as const, accountId: userId, amr: ['pwd'], method: 'password' };
    return { kind: 'created' as const, state };
  }

  /**
   * The new address gets its verification mail at once. A mail that cannot go (no SMTP, a
   * limit) does not undo the account: the verify-email stipulation's page can send it again.
   */
  private async sendVerification(tenantId: string, userId: string, ip: string | null) {
    try {
      await this.emailFlows.sendVerificationLimited(tenantId, userId, ip);
    } catch (err) {
      if (!isDomainError(err)) throw err;
    }
  }

  /** POST signup/passkey-options: registration options for the account just created (JSON). */
  async passkeyOptions(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['signup']);
    if (isPage(step)) return { status: step.status, json: { error: 'invalid_request' } };
    try {
      return {
        status: 200,
        json: await this.passkeys.registrationOptions(tenantId, step.state.accountId),
      };
    } catch (err) {
      // The ceremony's script reads JSON: the error answers in JSON too.
      if (isDomainError(err))
        return { status: STATUS_OF_KIND[err.kind], json: { error: err.message } };
      throw err;
    }
  }

  /** POST signup/passkey: the new passkey signs the user in (it is a strong factor). */
  async passkey(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['signup']);
    if (isPage(step)) return step;
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
    if (!response || typeof response !== 'object') return this.renderPasskey(l, state, failed, 400);
    try {
      await this.passkeys.verifyRegistration(
        tenantId,
        state.accountId,
        form.challenge_id,
        response,
        'Passkey',
        this.context.actor(http, state),
      );
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return this.renderPasskey(l, state, failed, 400);
    }
    return this.completion.complete(l, http, {
      accountId: state.accountId,
      amr: ['hwk', 'mfa'],
      method: 'passkey',
    });
  }

  /** Whether this interaction may create an account with a password (pages and headless). */
  isOpen(l: Loaded): boolean {
    return this.context.signupOpen(l) && l.settings.password_enabled;
  }

  /**
   * The pages (and the headless API) also sign up passkey-only tenants: the passkey step is
   * not skippable there.
   */
  openOnPage(l: Loaded): boolean {
    return this.isOpen(l) || (this.context.signupOpen(l) && this.passkeyOnly(l));
  }

  /** A tenant without passwords: sign-up registers a passkey instead (decision 0031). */
  passkeyOnly(l: Loaded): boolean {
    return !l.settings.password_enabled && l.settings.passkey_enabled;
  }

  /** A login-prompt interaction open to sign-up with a password; a page instead. */
  private async load(
    tenantId: string,
    uid: string,
    http: PageRequest,
    form?: Record<string, string>,
  ): Promise<Loaded | PageResult> {
    const l = await this.context.loadAt('login', tenantId, uid, http, form);
    if (isPage(l)) return l;
    if (!this.openOnPage(l))
      return this.context.error(l.branding, 403, 'access_denied', SIGNUP_OFF);
    return l;
  }

  private render(
    l: Loaded,
    error?: string,
    values?: { username?: string; email?: string },
    status = 200,
  ): PageResult {
    return {
      status,
      html: signupPage(l.branding, {
        action: l.actions.signup,
        fields: { csrf: l.csrf },
        loginHref: l.actions.base,
        error,
        values,
        minLength: l.settings.password_min_length,
        passwordless: this.passkeyOnly(l),
        usernameAndEmail: l.settings.has_username_and_email,
      }),
    };
  }

  private renderPasskey(l: Loaded, state: StepState, error?: string, status = 200): PageResult {
    return {
      status,
      scripts: true,
      html: signupPasskeyPage(l.branding, {
        optionsAction: l.actions.signupPasskeyOptions,
        registerAction: l.actions.signupPasskey,
        continueAction: this.passkeyOnly(l) ? undefined : l.actions.continue,
        fields: this.context.stepFields(l, state),
        error,
      }),
    };
  }
}
