import { Injectable } from '@nestjs/common';
import type { UserEntity } from '../../users/user.entity.js';
import type { PageResult } from '../kit/page-reply.js';
import { EnrolmentStep } from './enrolment.step.js';
import { InteractionContext, type Loaded, type SignedIn } from './interaction-context.js';
import { newPasswordPage, passkeyPage, termsPage, verifyEmailPage } from './stipulation-views.js';
import type { Stipulation } from './stipulations.js';

/** Where the stipulation pages post, under the interaction. */
export function stipulationActions(base: string) {
  return {
    terms: `${base}/stipulation/terms`,
    password: `${base}/stipulation/password`,
    verifyEmail: `${base}/stipulation/verify-email`,
    resend: `${base}/stipulation/verify-email/resend`,
    passkey: `${base}/stipulation/passkey`,
    passkeyOptions: `${base}/stipulation/passkey-options`,
  };
}

/**
 * The pages of unmet stipulations: what SignInCompletion shows instead of finishing. A second
 * factor goes through the usual enrolment step; the others have pages of their own, whose
 * posts (StipulationsStep) meet the rule and try to complete again.
 */
@Injectable()
export class StipulationPages {
  constructor(
    private readonly context: InteractionContext,
    private readonly enrolment: EnrolmentStep,
  ) {}

  async render(
    l: Loaded,
    state: SignedIn,
    rule: Stipulation,
    user: UserEntity,
    message: { error?: string; notice?: string; status?: number } = {},
  ): Promise<PageResult> {
    if (rule === 'second_factor') return this.enrolment.begin(l, state);
    const a = stipulationActions(l.actions.base);
    const common = {
      fields: this.context.stepFields(l, { ...state, stage: 'stipulation' }),
      abortAction: l.actions.abort,
      error: message.error,
      notice: message.notice,
    };
    const status = message.status ?? 200;
    switch (rule) {
      case 'accepted_terms':
        return {
          status,
          html: termsPage(l.branding, {
            ...common,
            action: a.terms,
            termsUrl: l.settings.terms_url ?? l.clientDisplay?.tosUri,
            version: l.settings.terms_version,
            renewed: user.terms_accepted_version !== null,
          }),
        };
      case 'verified_email':
        return {
          status: user.email ? status : 403,
          html: verifyEmailPage(l.branding, {
            ...common,
            action: a.verifyEmail,
            resendAction: a.resend,
            email: user.email,
          }),
        };
      case 'passkey':
        return {
          status,
          scripts: true,
          html: passkeyPage(l.branding, {
            ...common,
            action: a.passkey,
            optionsAction: a.passkeyOptions,
          }),
        };
      case 'password_changed_after_reset':
        return {
          status,
          html: newPasswordPage(l.branding, {
            ...common,
            action: a.password,
            minLength: l.settings.password_min_length,
          }),
        };
    }
  }
}
