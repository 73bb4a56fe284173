import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, isPage, type Loaded } from './interaction-context.js';
import { LoginMethods, type LoginMethod } from './login-methods.js';
import { SignInProgress } from './progress.js';
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
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly passkeys: PasskeysService,
  ) {
    context.onPrompt('login', (l) => this.render(l));
  }

  render(l: Loaded, error?: string, status = 200): PageResult {
    const hint = l.interaction.params.login_hint;
    const active = this.methods.forTenant(l.settings);
    const methods = active.map((m) =>
      m.render({
        tenantId: l.tenantId,
        uid: l.uid,
        action: l.actions.login,
        csrf: l.csrf,
        loginHint: typeof hint === 'string' ? hint : undefined,
        settings: l.settings,
      }),
    );
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

  /**
   * POST login: one method checks its part of the form. Every attempt, whatever the method,
   * passes the brute-force blocker first and lands in the audit log (which feeds analytics).
   * A blocked attempt looks exactly like a wrong password.
   */
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
    return this.attempt(l, http, method, form, (message) => this.render(l, message, 401));
  }

  /**
   * One sign-in attempt with `method`, through the blocker, the audit log and the metrics;
   * `retry` draws the page a failed attempt shows.
   */
  async attempt(
    l: Loaded,
    http: PageRequest,
    method: LoginMethod,
    form: Record<string, string>,
    retry: (message: string) => PageResult,
  ): Promise<PageResult> {
    const { tenantId } = l;
    const who = { ip: http.ip, username: method.loginName(form) ?? null };
    const event = this.context.auditEvent(l, http, method.id);
    const fail = (reason: string, subjectId?: string | null) => {
      this.audit.record({
        ...event,
        type: 'login.failure',
        ...(subjectId !== undefined ? { subjectId } : {}),
        details: { ...event.details, reason },
      });
      this.metrics.signIn('failure', method.id);
    };
    const check = await this.blocker.check(tenantId, who);
    if (check.blocked) {
      fail('blocked');
      return retry(method.failureMessage);
    }
    const outcome = await method.authenticate(tenantId, form, l.settings, http, l.uid);
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
        fail('invalid_credentials', outcome.accountId ?? null);
        return retry(outcome.message);
      case 'refused':
        fail('refused', outcome.accountId);
        return this.context.error(l.branding, 403, 'access_denied', outcome.description);
      case 'success': {
        if (!method.guardsItself) {
          // The account is known only now: blocked under another login, the right password
          // still fails (the same answer as a wrong one).
          const account = { accountId: outcome.accountId };
          const accountCheck = await this.blocker.check(tenantId, account);
          if (accountCheck.blocked) {
            fail('blocked', outcome.accountId);
            return retry(method.failureMessage);
          }
          // With the checks: nothing to forgive costs no store round trip.
          await this.blocker.recordSuccess(tenantId, who, check);
          await this.blocker.recordSuccess(tenantId, account, accountCheck);
        }
        return this.progress.next(l, http, {
          accountId: outcome.accountId,
          amr: outcome.amr,
          method: method.id,
        });
      }
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
