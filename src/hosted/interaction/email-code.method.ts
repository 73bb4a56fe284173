import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit/audit.service.js';
import { LoginCodeService } from '../../email-flows/login-code.service.js';
import { MailService } from '../../mail/mail.service.js';
import type { LoginMethod, LoginMethodView, LoginOutcome, Settings } from './login-methods.js';
import { esc } from '../kit/layout.js';

const WRONG = 'The code is wrong, has expired or was already used.';

/** The login route's sibling where the user asks for a code (EmailCodeStep). */
export function emailCodeAction(loginAction: string): string {
  return `${loginAction}/email-code`;
}

/**
 * A one-time code mailed to the user's address (LoginCodeService), offered while mail is
 * configured. The login page only links to the step that asks for the address; the address
 * then travels in the sealed pending state and the code page's post lands here with both.
 * The code service runs the brute-force blocker itself, so the caller passes the request.
 */
@Injectable()
export class EmailCodeLoginMethod implements LoginMethod {
  readonly id = 'email_code';
  readonly failureMessage = WRONG;
  readonly guardsItself = true;
  readonly ownStep = true;

  constructor(
    private readonly codes: LoginCodeService,
    private readonly mail: MailService,
  ) {}

  enabled(_settings: Settings): boolean {
    return this.mail.enabled;
  }

  loginName(form: Record<string, string>): string | undefined {
    return typeof form.email === 'string' && form.email.trim() ? form.email : undefined;
  }

  render(v: LoginMethodView): string {
    return `<section class="method" aria-label="Sign in with a code sent by email">
<form method="get" action="${esc(emailCodeAction(v.action))}">
<button type="submit" class="secondary">Email me a sign-in code</button>
</form>
</section>`;
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
    ctx?: AuditContext,
  ): Promise<LoginOutcome> {
    const email = typeof form.email === 'string' ? form.email.trim() : '';
    const code = typeof form.code === 'string' ? form.code.replace(/\s/g, '') : '';
    if (!email || email.length > 254 || !/^\d{6}$/.test(code)) {
      return { status: 'failed', message: WRONG };
    }
    const userId = await this.codes.consume(tenantId, email, code, ctx);
    if (!userId) return { status: 'failed', message: WRONG };
    // The mailbox is the one factor: a user with TOTP still gets the TOTP step after it.
    return { status: 'success', accountId: userId, amr: ['otp'] };
  }
}
