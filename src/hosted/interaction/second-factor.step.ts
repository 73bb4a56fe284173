import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TotpService } from '../../mfa/totp.service.js';
import { UsersService } from '../../users/users.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { InteractionContext, isPage, type Loaded, type StepState } from './interaction-context.js';
import { totpStepPage } from './step-views.js';

const WRONG = 'The code is wrong or was already used.';

/** The second factor at sign-in: a TOTP code, or a recovery code. */
@Injectable()
export class SecondFactorStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly completion: SignInCompletion,
    private readonly users: UsersService,
    private readonly totp: TotpService,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
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

  /**
   * POST second-factor: a TOTP code, or a recovery code (anything that is not six digits).
   * Wrong codes count in the brute-force blocker under the user's name and land in the audit
   * log; TotpService also pauses the user after a few wrong codes in a row.
   */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['totp']);
    if (isPage(step)) return step;
    const { l, state } = step;
    const code = typeof form.code === 'string' ? form.code.trim().slice(0, 64) : '';
    const kind = /^\d{6}$/.test(code.replace(/\s/g, '')) ? 'totp' : 'recovery_code';
    const user = await this.users.getEntity(tenantId, state.accountId);
    if (!user || user.is_disabled)
      return this.context.error(l.branding, 403, 'access_denied', 'This account is disabled.');
    const who = { ip: http.ip, username: user.username };
    const event = this.context.auditEvent(l, http, kind);
    const fail = (reason: string) => {
      this.audit.record({
        ...event,
        type: 'login.failure',
        subjectId: state.accountId,
        details: { ...event.details, reason },
      });
      this.metrics.signIn('failure', kind);
      return this.render(l, state, WRONG, 401);
    };
    if (!code) return this.render(l, state, 'Enter a code.', 400);
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
    return this.completion.complete(l, http, {
      accountId: state.accountId,
      amr: [...state.amr, kind === 'totp' ? 'otp' : 'kba'],
      method: kind,
    });
  }
}
