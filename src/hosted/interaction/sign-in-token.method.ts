import { Injectable } from '@nestjs/common';
import { AuditService, type AuditContext } from '../../audit/audit.service.js';
import { MagicLinksService } from '../../email-flows/magic-links.service.js';
import { UsersService } from '../../users/users.service.js';
import type { LoginMethod, LoginOutcome, Settings } from './login-methods.js';

export const SIGN_IN_TOKEN_WRONG = 'The sign-in token is invalid, has expired or was already used.';

/**
 * An admin-issued one-time sign-in token (support flows, decision 0032). Never on the login
 * page and never registered in LoginMethods: SignInTokenStep runs it through
 * SignInRules.attempt (blocker, audit, second factor) when a browser brings a token.
 */
@Injectable()
export class SignInTokenLoginMethod implements LoginMethod {
  readonly id = 'sign_in_token';
  readonly failureMessage = SIGN_IN_TOKEN_WRONG;
  readonly ownStep = true;

  constructor(
    private readonly links: MagicLinksService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  enabled(_settings: Settings): boolean {
    return true;
  }

  loginName(form: Record<string, string>): string | undefined {
    return typeof form.login === 'string' && form.login ? form.login : undefined;
  }

  render(): string {
    return '';
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
    ctx?: AuditContext,
  ): Promise<LoginOutcome> {
    const row = await this.links.consumeLink(tenantId, 'admin', form.token);
    if (!row) return { status: 'failed', message: SIGN_IN_TOKEN_WRONG };
    const user = await this.users.getEntity(tenantId, row.user_id);
    if (!user || user.is_disabled)
      return { status: 'failed', message: SIGN_IN_TOKEN_WRONG, accountId: row.user_id };
    this.audit.recordForUser(
      tenantId,
      row.user_id,
      'sign_in_token.used',
      { ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null },
      this.id,
      { issued_by: row.created_by },
    );
    // A one-time secret, as a mailed code: `otp`; a user with TOTP still gets that step.
    return { status: 'success', accountId: row.user_id, amr: ['otp'] };
  }
}
