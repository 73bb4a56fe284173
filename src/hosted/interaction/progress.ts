import { Injectable } from '@nestjs/common';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { EnrolmentStep } from './enrolment.step.js';
import { PinPatternEnrolmentStep } from './pin-pattern-enrolment.step.js';
import { InteractionContext, isPage, type Loaded, type SignedIn } from './interaction-context.js';
import { SecondFactorStep } from './second-factor.step.js';
import { SignInRules } from './sign-in-rules.js';

/** What comes after a first factor (or a new account): the second factor, enrolment, or done. */
@Injectable()
export class SignInProgress {
  constructor(
    private readonly context: InteractionContext,
    private readonly rules: SignInRules,
    private readonly secondFactor: SecondFactorStep,
    private readonly enrolment: EnrolmentStep,
    private readonly completion: SignInCompletion,
    private readonly pinPattern: PinPatternEnrolmentStep,
  ) {}

  /** A first factor passed: what SignInRules.nextStage says comes next, as a page. */
  async next(l: Loaded, http: PageRequest, state: SignedIn): Promise<PageResult> {
    switch (await this.rules.nextStage(l, state)) {
      case 'totp':
        return this.secondFactor.render(l, { ...state, stage: 'totp' });
      case 'enrol':
        return this.enrolment.begin(l, state);
      case 'complete':
        // The tenant uses a PIN/pattern the user has not set: offered once per sign-in, skippable.
        return (await this.pinPattern.offer(l, state)) ?? this.completion.complete(l, http, state);
    }
  }

  /**
   * POST continue: past the recovery codes of a new TOTP (the PIN/pattern offer, as after a
   * sign-in), past that offer (done), or past the passkey offer of sign-up.
   */
  async continue(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, [
      'done',
      'enrolled',
      'signup',
    ]);
    if (isPage(step)) return step;
    const { l, state } = step;
    const next = { accountId: state.accountId, amr: state.amr, method: state.method };
    // A passkey-only sign-up has no credential until its passkey: nothing to continue with.
    if (state.stage === 'signup' && !state.amr.length)
      return this.context.error(
        l.branding,
        400,
        'invalid_request',
        'Add a passkey to finish creating your account.',
      );
    if (state.stage === 'signup') return this.next(l, http, next);
    if (state.stage === 'enrolled')
      return (await this.pinPattern.offer(l, next)) ?? this.completion.complete(l, http, next);
    return this.completion.complete(l, http, next);
  }
}
