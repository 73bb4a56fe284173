import { Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { LoginCodeService } from '../../email-flows/login-code.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { EmailCodeLoginMethod } from './email-code.method.js';
import { FirstFactorStep } from './first-factor.step.js';
import {
  InteractionContext,
  isEmailAddress,
  isPage,
  loginHintOf,
  type Loaded,
} from './interaction-context.js';
import { LoginMethods } from './login-methods.js';
import { emailCodeEntryPage, emailCodeRequestPage } from './step-views.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The own step of the email-code sign-in method (EmailCodeLoginMethod, linked from the login
 * page): the user asks for a code by address, then types it; the typed code is one attempt of
 * the method, checked like any first factor (FirstFactorStep.attempt).
 */
@Injectable()
export class EmailCodeStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly methods: LoginMethods,
    private readonly method: EmailCodeLoginMethod,
    private readonly firstFactor: FirstFactorStep,
    private readonly loginCodes: LoginCodeService,
  ) {}

  /** GET login/email-code: asks for the address. */
  async show(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    if (isPage(l)) return l;
    const hint = loginHintOf(l);
    return this.renderRequest(l, hint?.includes('@') ? hint : undefined);
  }

  /**
   * POST login/email-code: mails a code when the address has an account. The answer is the
   * same page either way (LoginCodeService looks the address up after answering).
   */
  async request(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const email = str(form.email).trim();
    if (!isEmailAddress(email))
      return this.renderRequest(l, email, 'Enter your email address.', 400);
    try {
      await this.loginCodes.issue(tenantId, email, http.ip);
    } catch (err) {
      // Over the per-IP limit: it is about the network, never about the address.
      if (!isDomainError(err) || err.kind !== 'too-many') throw err;
      return this.renderRequest(
        l,
        email,
        'Too many requests from your network. Try again later.',
        429,
      );
    }
    return this.renderEntry(l, email);
  }

  /** POST login/email-code/verify: the code, checked like any first factor. */
  async verify(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http, form);
    if (isPage(l)) return l;
    const state = this.context.openState(l, form.pending, ['email_code']);
    if (!state?.email) return this.context.stepExpired(l);
    const email = state.email;
    return this.firstFactor.attempt(
      l,
      http,
      this.method,
      { email, code: str(form.code) },
      // A mistyped code is typed again on the code page; the mailed code stays valid.
      (message) => this.renderEntry(l, email, message, 401),
    );
  }

  /** Loads a login-prompt interaction whose tenant offers sign-in codes; a page instead. */
  private async load(
    tenantId: string,
    uid: string,
    http: PageRequest,
    form?: Record<string, string>,
  ): Promise<Loaded | PageResult> {
    const l = await this.context.loadAt('login', tenantId, uid, http, form);
    if (isPage(l)) return l;
    if (!this.methods.find(l.settings, this.method.id))
      return this.context.error(
        l.branding,
        403,
        'access_denied',
        'Sign-in codes by email are not available.',
      );
    return l;
  }

  private renderRequest(l: Loaded, email?: string, error?: string, status = 200): PageResult {
    return {
      status,
      html: emailCodeRequestPage(l.branding, {
        action: l.actions.emailCode,
        fields: { csrf: l.csrf },
        loginHref: l.actions.base,
        email,
        error,
      }),
    };
  }

  private renderEntry(l: Loaded, email: string, error?: string, status = 200): PageResult {
    return {
      status,
      html: emailCodeEntryPage(l.branding, {
        action: l.actions.emailCodeVerify,
        fields: this.context.stepFields(l, {
          stage: 'email_code',
          accountId: '',
          amr: [],
          method: this.method.id,
          email,
        }),
        email,
        requestHref: l.actions.emailCode,
        loginHref: l.actions.base,
        error,
        abortAction: l.actions.abort,
      }),
    };
  }
}
