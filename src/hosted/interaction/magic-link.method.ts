import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit/audit.service.js';
import { MagicLinksService } from '../../email-flows/magic-links.service.js';
import { MailService } from '../../mail/mail.service.js';
import { UsersService } from '../../users/users.service.js';
import { esc } from '../kit/layout.js';
import type { LoginMethod, LoginMethodView, LoginOutcome, Settings } from './login-methods.js';

export const MAGIC_LINK_WRONG = 'The link or code is wrong, has expired or was already used.';

/** The login route's sibling where the user asks for a link (MagicLinkStep). */
export function magicLinkAction(loginAction: string): string {
  return `${loginAction}/magic-link`;
}

/**
 * One-time sign-in links by mail (MagicLinksService), offered when the tenant turns on
 * `magic_link_enabled` and mail is configured. Its pages are its own step (MagicLinkStep); each
 * attempt (the link in the asking browser, or the code another browser showed) goes through
 * SignInRules.attempt, so the blocker counts it per IP and per address and a second factor
 * follows as for any first factor. `form.via` says which: `link` (token + nonce) or `code`
 * (code + nonce); `email` is the address the blocker counts.
 */
@Injectable()
export class MagicLinkLoginMethod implements LoginMethod {
  readonly id: string = 'magic_link';
  readonly failureMessage = MAGIC_LINK_WRONG;
  readonly ownStep = true;

  constructor(
    protected readonly links: MagicLinksService,
    private readonly mail: MailService,
    protected readonly users: UsersService,
  ) {}

  enabled(settings: Settings): boolean {
    return settings.magic_link_enabled === true && this.mail.enabled;
  }

  loginName(form: Record<string, string>): string | undefined {
    return typeof form.email === 'string' && form.email.trim() ? form.email.trim() : undefined;
  }

  render(v: LoginMethodView): string {
    return `<section class="method" aria-label="Sign in with a link sent by email">
<form method="get" action="${esc(magicLinkAction(v.action))}">
<button type="submit" class="secondary">Email me a sign-in link</button>
</form>
</section>`;
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
    _ctx?: AuditContext,
    uid?: string,
  ): Promise<LoginOutcome> {
    if (!uid) return { status: 'failed', message: MAGIC_LINK_WRONG };
    const userId =
      form.via === 'link'
        ? (await this.links.consumeLink(tenantId, 'magic', form.token, uid, form.nonce))?.user_id
        : form.via === 'code'
          ? await this.links.consumeCode(tenantId, uid, form.nonce, form.code)
          : null;
    return this.outcome(tenantId, userId ?? null);
  }

  protected async outcome(tenantId: string, userId: string | null): Promise<LoginOutcome> {
    if (!userId) return { status: 'failed', message: MAGIC_LINK_WRONG };
    const user = await this.users.getEntity(tenantId, userId);
    if (!user || user.is_disabled)
      return { status: 'failed', message: MAGIC_LINK_WRONG, accountId: userId };
    // A one-time secret delivered to the mailbox: `otp` as the email code; TOTP may follow.
    return { status: 'success', accountId: userId, amr: ['otp'] };
  }
}
