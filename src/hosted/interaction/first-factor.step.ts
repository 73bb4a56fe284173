import { Injectable } from '@nestjs/common';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, isPage, loginHintOf, type Loaded } from './interaction-context.js';
import { LoginMethods, type LoginMethod } from './login-methods.js';
import { SignInProgress } from './progress.js';
import { SignInRules } from './sign-in-rules.js';
import { loginPage } from './views.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * The first factor: the login page with every sign-in method the tenant enables (the
 * LoginMethods plug-ins), and one attempt with a method through the brute-force blocker, the
 * audit log and the metrics. It is the page of the `login` prompt.
 */
@Injectable()
export class FirstFactorStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly methods: LoginMethods,
    private readonly progress: SignInProgress,
    private readonly rules: SignInRules,
    private readonly passkeys: PasskeysService,
  ) {
    context.onPrompt('login', (l) => this.render(l));
  }

  render(l: Loaded, error?: string, status = 200): PageResult {
    const hint = loginHintOf(l);
    const active = this.methods.forTenant(l.settings);
    const methods = active.map((m) =>
      m.render({
        tenantId: l.tenantId,
        uid: l.uid,
        action: l.actions.login,
        csrf: l.csrf,
        loginHint: hint,
        settings: l.settings,
      }),
    );
    methods.push(...l.loginSections);
    if (!methods.length) {
      return this.context.error(
        l.branding,
        403,
        'access_denied',
        'No sign-in method is enabled for this organisation.',
      );
    }
    const links = [
      ...(l.settings.password_enabled
        ? [{ href: l.actions.forgot, text: 'Forgot password?' }]
        : []),
      ...(this.context.signupOpen(l)
        ? [{ href: l.actions.signup, text: 'Create an account' }]
        : []),
    ];
    return {
      status,
      scripts: active.some((m) => m.scripts === 'wasm') ? 'wasm' : l.settings.passkey_enabled,
      html: loginPage(l.branding, {
        client: l.clientDisplay,
        methods,
        error,
        abortAction: l.actions.abort,
        csrf: l.csrf,
        links,
      }),
    };
  }

  /** POST login: one method checks its part of the form (SignInRules.attempt). */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.context.loadAt('login', tenantId, uid, http, form);
    if (isPage(l)) return l;
    const method = this.methods.find(l.settings, form.method);
    // A method with its own step (a mailed code) is never posted here.
    if (!method || method.ownStep) return this.render(l, 'Choose a way to sign in.', 400);
    // An address whose domain has its own sign-in (an upstream provider's domain hint).
    const routed = await this.context.routeLogin(l, method.loginName(form));
    if (routed) return routed;
    return this.attempt(l, http, method, form, (message) => this.render(l, message, 401));
  }

  /**
   * One sign-in attempt with `method` (SignInRules.attempt: blocker, audit, metrics); `retry`
   * draws the page a failed attempt shows.
   */
  async attempt(
    l: Loaded,
    http: PageRequest,
    method: LoginMethod,
    form: Record<string, string>,
    retry: (message: string) => PageResult,
  ): Promise<PageResult> {
    const outcome = await this.rules.attempt(l, http, method, form);
    switch (outcome.kind) {
      case 'failed':
        return retry(outcome.message);
      case 'refused':
        return this.context.error(l.branding, 403, 'access_denied', outcome.description);
      case 'passed':
        return this.progress.next(l, http, outcome.state);
    }
  }

  /**
   * POST login/passkey-options: assertion options (JSON) for a discoverable passkey, or for the
   * passkeys of the username typed in the login field.
   */
  async passkeyOptions(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.context.load(tenantId, uid, http);
    if (isPage(l)) return { status: l.status, json: { error: 'invalid_request' } };
    if (!this.context.csrfValid(l, form.csrf))
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
}
