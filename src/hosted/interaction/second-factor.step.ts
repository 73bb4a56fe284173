import { Injectable } from '@nestjs/common';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { InteractionContext, isPage, type Loaded, type StepState } from './interaction-context.js';
import { PinPatternEnrolmentStep } from './pin-pattern-enrolment.step.js';
import { SignInRules } from './sign-in-rules.js';
import { totpStepPage } from './step-views.js';

/** The second factor at sign-in: a TOTP code, or a recovery code. */
@Injectable()
export class SecondFactorStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly completion: SignInCompletion,
    private readonly rules: SignInRules,
    private readonly pinPattern: PinPatternEnrolmentStep,
  ) {}

  render(l: Loaded, state: StepState, error?: string, status = 200): PageResult {
    return {
      status,
      html: totpStepPage(l.branding, {
        action: l.actions.secondFactor,
        fields: this.context.stepFields(l, state),
        error,
        abortAction: l.actions.abort,
      }),
    };
  }

  /** POST second-factor: a TOTP or recovery code (SignInRules.secondFactor). */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['totp']);
    if (isPage(step)) return step;
    const { l, state } = step;
    const outcome = await this.rules.secondFactor(l, http, state, form.code);
    switch (outcome.kind) {
      case 'failed':
        return this.render(l, state, outcome.message, outcome.missing ? 400 : 401);
      case 'refused':
        return this.context.error(l.branding, 403, 'access_denied', outcome.description);
      case 'passed':
        // As after a sign-in without a second factor: the PIN/pattern offer, skippable.
        return (
          (await this.pinPattern.offer(l, outcome.state)) ??
          this.completion.complete(l, http, outcome.state)
        );
    }
  }
}
