import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { isDomainError } from '../../common/domain-error.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import type { UserEntity } from '../../users/user.entity.js';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { UserRows } from '../../users/user-rows.js';
import { UsersService } from '../../users/users.service.js';
import type { PageRequest } from '../kit/page-reply.js';
import { InteractionContext, type Loaded, type SignedIn } from './interaction-context.js';
import { StipulationRules, type Stipulation } from './stipulations.js';

/** What the user sends to meet the rule at hand (a page's form, or the headless step's JSON). */
export interface StipulationInput {
  /**
   * The rule this input is for. Another rule at hand (this one was met meanwhile, say the
   * address verified, and the next is the terms) is no error: the sign-in goes on to it.
   */
  rule?: Stipulation;
  accept_terms?: boolean;
  new_password?: string;
  confirm_password?: string;
  resend_verification?: boolean;
  /** passkey: the registration ceremony's answer to the options of the step. */
  passkey?: { challenge_id: string; response: unknown };
}

export type MeetOutcome =
  /** The rule at hand is met now (or the input was for another rule): try to complete again. */
  | { kind: 'met' }
  /** Still unmet: the rule's page (or step) again, with a message. */
  | {
      kind: 'again';
      rule: Stipulation;
      user: UserEntity;
      status: number;
      error?: string;
      notice?: string;
    };

/**
 * Meeting a stipulation, for the hosted pages (StipulationsStep) and the headless API alike:
 * accept the current terms, choose a password of one's own, (re)send the verification mail.
 * A second factor is met through the usual enrolment step.
 */
@Injectable()
export class StipulationActions {
  private readonly logger = new Logger('Stipulations');

  constructor(
    private readonly context: InteractionContext,
    private readonly rules: StipulationRules,
    private readonly users: UsersService,
    private readonly rows: UserRows,
    private readonly passkeys: PasskeysService,
    private readonly emailFlows: EmailFlowsService,
    private readonly audit: AuditService,
  ) {}

  async meet(
    l: Loaded,
    http: PageRequest,
    state: SignedIn,
    input: StipulationInput,
  ): Promise<MeetOutcome> {
    const unmet = await this.rules.unmet(l.tenantId, l.settings, state.accountId);
    if (!unmet) return { kind: 'met' };
    const { rule, user } = unmet;
    if (input.rule && input.rule !== rule) return { kind: 'met' };
    const again = (status: number, message: { error?: string; notice?: string }) =>
      ({ kind: 'again', rule, user, status, ...message }) as const;
    const audit = (type: string, details?: Record<string, unknown>) => {
      const event = this.context.auditEvent(l, http, state.method);
      this.audit.record({
        ...event,
        type,
        actorType: 'user',
        actorId: state.accountId,
        subjectId: state.accountId,
        details: { ...event.details, ...details },
      });
    };
    switch (rule) {
      case 'accepted_terms': {
        if (input.accept_terms !== true)
          return again(400, { error: 'Tick the box to accept the terms, or cancel.' });
        const version = l.settings.terms_version;
        const now = new Date();
        await this.rows.update(l.tenantId, state.accountId, {
          terms_accepted_version: version,
          terms_accepted_at: now,
          updated_at: now,
        });
        audit('user.terms_accepted', { version });
        return { kind: 'met' };
      }
      case 'password_changed_after_reset': {
        const next = input.new_password ?? '';
        if (!next || next !== input.confirm_password)
          return again(400, { error: 'The two passwords differ.' });
        if (await this.users.verifyPassword(l.tenantId, user, next))
          return again(400, { error: 'Choose a password other than the one you were given.' });
        try {
          await this.users.setPassword(l.tenantId, state.accountId, next);
        } catch (err) {
          if (!isDomainError(err) || err.kind !== 'invalid') throw err;
          const min = l.settings.password_min_length;
          return again(400, {
            error: `The password does not meet the policy: at least ${min} characters.`,
          });
        }
        audit('user.password_changed');
        return { kind: 'met' };
      }
      case 'verified_email': {
        if (!input.resend_verification)
          return again(400, {
            error: 'Your address is not verified yet. Open the link in the mail first.',
          });
        try {
          await this.emailFlows.sendVerificationLimited(l.tenantId, state.accountId, http.ip);
        } catch (err) {
          if (!isDomainError(err)) throw err;
          this.logger.warn({ err: err.message }, 'verification mail not sent');
          return again(err.kind === 'too-many' ? 429 : 503, {
            error: 'The mail could not be sent now. Try again in a few minutes.',
          });
        }
        return again(200, { notice: 'We sent the mail again.' });
      }
      case 'second_factor':
        return again(400, { error: 'Set up two-step verification first.' });
      case 'passkey': {
        const failed = 'The passkey could not be added. Try again.';
        const p = input.passkey;
        if (!p || typeof p.response !== 'object' || p.response === null)
          return again(400, { error: failed });
        try {
          await this.passkeys.verifyRegistration(
            l.tenantId,
            state.accountId,
            p.challenge_id,
            p.response as RegistrationResponseJSON,
            'Passkey',
            this.context.actor(http, state),
          );
        } catch (err) {
          if (!isDomainError(err)) throw err;
          return again(400, { error: failed });
        }
        return { kind: 'met' };
      }
    }
  }

  /** Registration options for the passkey stipulation (the page's script or the headless step). */
  passkeyOptions(l: Loaded, state: SignedIn) {
    return this.passkeys.registrationOptions(l.tenantId, state.accountId);
  }
}
