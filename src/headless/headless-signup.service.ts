import { Injectable } from '@nestjs/common';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { isDomainError } from '../common/domain-error.js';
import { InteractionContext } from '../hosted/interaction/interaction-context.js';
import { SignupStep } from '../hosted/interaction/signup.step.js';
import { PasskeysService } from '../passkeys/passkeys.service.js';
import { authnProblem } from './headless-problems.js';
import { HeadlessSignIn, type Caller, type StepAnswer } from './headless-sign-in.service.js';

const failed = () =>
  authnProblem('authn-invalid-credentials', 'The passkey could not be added; try again');

/**
 * Headless sign-up: the pages' SignupStep as JSON. A tenant with passwords creates the account
 * and goes on with the usual checks; a passkey-only tenant (passwords off, passkeys on) creates
 * it without a password and answers `next: signup_passkey` with registration options: the
 * account's passkey is its credential, and the sign-in finishes only once it is registered
 * (as the page, whose passkey step cannot be skipped there).
 */
@Injectable()
export class HeadlessSignUp {
  constructor(
    private readonly flow: HeadlessSignIn,
    private readonly signupStep: SignupStep,
    private readonly context: InteractionContext,
    private readonly passkeys: PasskeysService,
  ) {}

  async signup(
    tenantId: string,
    body: { auth_req_id: string; username: string; email: string; password?: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.flow.load(tenantId, body.auth_req_id, caller);
    if (!this.signupStep.openOnPage(l))
      throw authnProblem('authn-method-unavailable', 'Sign-up is not open here');
    const created = await this.signupStep.createAccount(l, caller, {
      username: body.username,
      email: body.email,
      password: body.password ?? '',
    });
    if (created.kind === 'rejected') {
      const fields = created.fields.map((field) => ({ field, message: created.message }));
      throw created.status === 409
        ? authnProblem('authn-signup-conflict', created.message)
        : authnProblem('authn-signup-rejected', created.message, fields);
    }
    const { accountId, amr, method } = created.state;
    if (!this.signupStep.passkeyOnly(l))
      return this.flow.progressOf(l, caller, { accountId, amr, method });
    return {
      ...this.flow.continueWith(l, 'signup_passkey', { stage: 'signup', accountId, amr, method }),
      passkey_options: await this.passkeys.registrationOptions(tenantId, accountId),
    };
  }

  /** next = signup_passkey: the new account's passkey, which signs the user in. */
  async passkey(
    tenantId: string,
    body: { auth_req_id: string; step_token: string; challenge_id: string; response: unknown },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.flow.load(tenantId, body.auth_req_id, caller);
    const state = this.flow.openStep(l, body.step_token, 'signup');
    const response = body.response;
    if (typeof response !== 'object' || response === null) throw failed();
    try {
      await this.passkeys.verifyRegistration(
        tenantId,
        state.accountId,
        body.challenge_id,
        response as RegistrationResponseJSON,
        'Passkey',
        this.context.actor(caller, state),
      );
    } catch (err) {
      if (!isDomainError(err)) throw err;
      throw failed();
    }
    return this.flow.completeOf(l, caller, {
      accountId: state.accountId,
      amr: ['hwk', 'mfa'],
      method: 'passkey',
    });
  }
}
