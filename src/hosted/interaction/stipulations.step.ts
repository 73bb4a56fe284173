import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { UsersService } from '../../users/users.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { InteractionContext, isPage, type Loaded, type SignedIn } from './interaction-context.js';
import { StipulationPages } from './stipulation-pages.js';
import { StipulationRules, type Stipulation } from './stipulations.js';

/** The posts of the stipulation pages: meet the rule, then try to complete the sign-in again. */
@Injectable()
export class StipulationsStep {
  private readonly logger = new Logger('Stipulations');

  constructor(
    private readonly context: InteractionContext,
    private readonly completion: SignInCompletion,
    private readonly rules: StipulationRules,
    private readonly pages: StipulationPages,
    private readonly users: UsersService,
    private readonly emailFlows: EmailFlowsService,
    private readonly audit: AuditService,
  ) {}

  private async load(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ) {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['stipulation']);
    if (isPage(step)) return step;
    const { l, state } = step;
    const signedIn: SignedIn = { accountId: state.accountId, amr: state.amr, method: state.method };
    return { l, signedIn, unmet: await this.rules.unmet(tenantId, l.settings, state.accountId) };
  }

  /** POST stipulation/terms: the user accepts the current terms version. */
  async terms(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.load(tenantId, uid, form, http);
    if (isPage(step)) return step;
    const { l, signedIn, unmet } = step;
    if (unmet?.rule === 'accepted_terms') {
      if (form.accept !== 'yes')
        return this.pages.render(l, signedIn, unmet.rule, unmet.user, {
          error: 'Tick the box to accept the terms, or cancel.',
          status: 400,
        });
      const version = l.settings.terms_version;
      await this.users.acceptTerms(tenantId, signedIn.accountId, version);
      this.audit.record({
        ...this.context.auditEvent(l, http, signedIn.method),
        type: 'user.terms_accepted',
        actorType: 'user',
        actorId: signedIn.accountId,
        subjectId: signedIn.accountId,
        details: { version },
      });
    }
    return this.completion.complete(l, http, signedIn);
  }

  /** POST stipulation/password: a password of the user's own replaces the admin's. */
  async password(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.load(tenantId, uid, form, http);
    if (isPage(step)) return step;
    const { l, signedIn, unmet } = step;
    if (unmet?.rule === 'password_changed_after_reset') {
      const next = typeof form.new_password === 'string' ? form.new_password : '';
      const again = (error: string) =>
        this.pages.render(l, signedIn, unmet.rule, unmet.user, { error, status: 400 });
      if (next !== form.confirm_password) return again('The two passwords differ.');
      if (await this.users.verifyPassword(tenantId, unmet.user, next))
        return again('Choose a password other than the one you were given.');
      try {
        await this.users.setPassword(tenantId, signedIn.accountId, next);
      } catch (err) {
        if (!isDomainError(err) || err.kind !== 'invalid') throw err;
        return again(
          `The password does not meet the policy: at least ${l.settings.password_min_length} characters.`,
        );
      }
      this.audit.record({
        ...this.context.auditEvent(l, http, signedIn.method),
        type: 'user.password_changed',
        actorType: 'user',
        actorId: signedIn.accountId,
        subjectId: signedIn.accountId,
      });
    }
    return this.completion.complete(l, http, signedIn);
  }

  /** POST stipulation/verify-email: the user says the link was opened; completion checks. */
  async verifyEmail(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.load(tenantId, uid, form, http);
    if (isPage(step)) return step;
    const { l, signedIn, unmet } = step;
    if (unmet?.rule === 'verified_email')
      return this.pages.render(l, signedIn, unmet.rule, unmet.user, {
        error: 'Your address is not verified yet. Open the link in the mail first.',
        status: 400,
      });
    return this.completion.complete(l, http, signedIn);
  }

  /** POST stipulation/verify-email/resend: another verification mail (mail limits apply). */
  async resend(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.load(tenantId, uid, form, http);
    if (isPage(step)) return step;
    const { l, signedIn, unmet } = step;
    if (unmet?.rule !== 'verified_email') return this.completion.complete(l, http, signedIn);
    try {
      await this.emailFlows.sendVerificationLimited(tenantId, signedIn.accountId, http.ip);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      this.logger.warn({ err: err.message }, 'verification mail not sent');
      return this.pages.render(l, signedIn, unmet.rule, unmet.user, {
        error: 'The mail could not be sent now. Try again in a few minutes.',
        status: err.kind === 'too-many' ? 429 : 503,
      });
    }
    return this.pages.render(l, signedIn, unmet.rule, unmet.user, {
      notice: 'We sent the mail again.',
    });
  }
}
