import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TotpService } from '../../mfa/totp.service.js';
import { UsersService } from '../../users/users.service.js';
import type { PageRequest } from '../kit/page-reply.js';
import { InteractionContext, type Loaded, type SignedIn } from './interaction-context.js';
import type { LoginMethod } from './login-methods.js';

/** What one first-factor attempt came to, whoever draws the answer (a page or JSON). */
export type AttemptOutcome =
  /** Wrong, blocked or incomplete: one message whatever the reason (no enumeration). */
  | { kind: 'failed'; message: string }
  /** The credentials were right but the account may not sign in. */
  | { kind: 'refused'; description: string }
  | { kind: 'passed'; state: SignedIn };

/** What a sign-in needs after a first factor. */
export type NextStage = 'totp' | 'enrol' | 'complete';

export type SecondFactorOutcome =
  | { kind: 'failed'; message: string; missing: boolean }
  | { kind: 'refused'; description: string }
  | { kind: 'passed'; state: SignedIn };

export const WRONG_SECOND_FACTOR = 'The code is wrong or was already used.';

/**
 * The rules of a sign-in, apart from how any step draws them: one attempt with a method
 * through the brute-force blocker, the audit log and the metrics; what follows a first factor;
 * the second factor. The hosted pages (FirstFactorStep, SignInProgress, SecondFactorStep) and
 * the headless JSON API (src/headless) both go through here, so no rule exists twice.
 */
@Injectable()
export class SignInRules {
  constructor(
    private readonly context: InteractionContext,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly totp: TotpService,
    private readonly users: UsersService,
  ) {}

  /**
   * One first-factor attempt with `method`. Every attempt, whatever the method, passes the
   * brute-force blocker first and lands in the audit log (which feeds analytics). A blocked
   * attempt looks exactly like a wrong credential.
   */
  async attempt(
    l: Loaded,
    http: PageRequest,
    method: LoginMethod,
    form: Record<string, string>,
  ): Promise<AttemptOutcome> {
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
      return { kind: 'failed', message: method.failureMessage };
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
        return { kind: 'failed', message: outcome.message };
      case 'refused':
        fail('refused', outcome.accountId);
        return { kind: 'refused', description: outcome.description };
      case 'success': {
        if (!method.guardsItself) {
          // The account is known only now: blocked under another login, the right password
          // still fails (the same answer as a wrong one).
          const account = { accountId: outcome.accountId };
          const accountCheck = await this.blocker.check(tenantId, account);
          if (accountCheck.blocked) {
            fail('blocked', outcome.accountId);
            return { kind: 'failed', message: method.failureMessage };
          }
          // With the checks: nothing to forgive costs no store round trip.
          await this.blocker.recordSuccess(tenantId, who, check);
          await this.blocker.recordSuccess(tenantId, account, accountCheck);
        }
        return {
          kind: 'passed',
          state: { accountId: outcome.accountId, amr: outcome.amr, method: method.id },
        };
      }
    }
  }

  /**
   * A first factor passed. A passkey (possession plus user verification) is enough on its
   * own; a password is followed by the user's TOTP, or by enrolment when the tenant requires
   * a second factor the user does not have yet.
   */
  async nextStage(l: Loaded, state: SignedIn): Promise<NextStage> {
    const strong = state.amr.includes('hwk');
    if (!strong && (await this.totp.hasSecondFactor(l.tenantId, state.accountId))) return 'totp';
    if (!strong && l.settings.is_2fa) return 'enrol';
    return 'complete';
  }

  /**
   * The second factor: a TOTP code, or a recovery code (anything that is not six digits).
   * Wrong codes count in the brute-force blocker under the user's name and land in the audit
   * log; TotpService also pauses the user after a few wrong codes in a row.
   */
  async secondFactor(
    l: Loaded,
    http: PageRequest,
    state: SignedIn,
    rawCode: unknown,
  ): Promise<SecondFactorOutcome> {
    const { tenantId } = l;
    const code = typeof rawCode === 'string' ? rawCode.trim().slice(0, 64) : '';
    const kind = /^\d{6}$/.test(code.replace(/\s/g, '')) ? 'totp' : 'recovery_code';
    const user = await this.users.getEntity(tenantId, state.accountId);
    if (!user || user.is_disabled)
      return { kind: 'refused', description: 'This account is disabled.' };
    const who = { ip: http.ip, username: user.username };
    const event = this.context.auditEvent(l, http, kind);
    const fail = (reason: string): SecondFactorOutcome => {
      this.audit.record({
        ...event,
        type: 'login.failure',
        subjectId: state.accountId,
        details: { ...event.details, reason },
      });
      this.metrics.signIn('failure', kind);
      return { kind: 'failed', message: WRONG_SECOND_FACTOR, missing: false };
    };
    if (!code) return { kind: 'failed', message: 'Enter a code.', missing: true };
    const check = await this.blocker.check(tenantId, who);
    if (check.blocked) return fail('blocked');
    const ok =
      kind === 'totp'
        ? await this.totp.verifyTotp(tenantId, state.accountId, code)
        : await this.totp.consumeRecoveryCode(tenantId, state.accountId, code);
    if (!ok) {
      await this.blocker.recordFailure(tenantId, { ...who, method: kind });
      return fail('invalid_credentials');
    }
    await this.blocker.recordSuccess(tenantId, who, check);
    return {
      kind: 'passed',
      state: {
        accountId: state.accountId,
        amr: [...state.amr, kind === 'totp' ? 'otp' : 'kba'],
        method: kind,
      },
    };
  }
}
