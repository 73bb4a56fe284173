import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { ListQuery } from '../common/pagination.js';
import { badRequest, notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MailService } from '../mail/mail.service.js';
import {
  emailChangedMail,
  emailChangeMail,
  emailInUseMail,
  passwordResetMail,
  verifyEmailMail,
  type Template,
} from '../mail/templates.js';
import { PasskeysService } from '../passkeys/passkeys.service.js';
import { PinPatternService } from '../pin-pattern/pin-pattern.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import type { EmailTokenEntity } from './email-token.entity.js';
import { EmailTokensService, invalidToken } from './email-tokens.service.js';
import { MailLimits } from './mail-limits.js';
import { DomainError, isDomainError } from '../common/domain-error.js';

const VERIFY_TTL_HOURS = 24;
const CHANGE_TTL_HOURS = 24;
const RESET_TTL_MINUTES = 60;

export const mailFailed = () =>
  new DomainError(
    'unavailable',
    'mail-failed',
    'The mail server did not accept the message; try again later',
    { title: 'Mail could not be sent' },
  );

/**
 * Flows that prove control of an email address with a mailed single-use link: verification,
 * password reset and email change. Every public entry point answers the same whether or not
 * an account has the address.
 */
@Injectable()
export class EmailFlowsService {
  private readonly logger = new Logger('EmailFlows');

  constructor(
    private readonly tokens: EmailTokensService,
    private readonly mail: MailService,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
    private readonly limits: MailLimits,
    private readonly passkeys: PasskeysService,
    private readonly pinPattern: PinPatternService,
  ) {}

  private record(
    tenantId: string,
    userId: string,
    type: string,
    ctx: AuditContext | undefined,
    details?: Record<string, unknown>,
  ) {
    this.audit.recordForUser(tenantId, userId, type, ctx, 'email_link', details);
  }

  /**
   * The public routes take guesses from anyone: a blocked address gets 429 before any token
   * is looked at. Wrong tokens (and every reset request, which sends mail) count per IP.
   */
  private async ipGuard(tenantId: string, ctx: AuditContext | undefined) {
    if (!ctx?.ip) return;
    const check = await this.blocker.check(tenantId, { ip: ctx.ip });
    if (check.blocked) throw tooManyAttempts(check);
  }

  private async claim(
    tenantId: string,
    purpose: 'verify' | 'reset' | 'change',
    token: string,
    ctx: AuditContext | undefined,
  ): Promise<EmailTokenEntity> {
    try {
      return await this.tokens.claimLink(tenantId, purpose, token);
    } catch (err) {
      if (ctx?.ip && isDomainError(err) && err.code === 'invalid-token')
        await this.blocker.recordFailure(tenantId, { ip: ctx.ip, method: `email_${purpose}_link` });
      throw err;
    }
  }

  private link(tenantId: string, path: string, token: string): string {
    return `${this.config.publicUrl}/${tenantId}/${path}?token=${encodeURIComponent(token)}`;
  }

  private async deliver(to: string, template: Template): Promise<void> {
    try {
      await this.mail.send({ ...template, to });
    } catch (err) {
      if (isDomainError(err)) throw err;
      this.logger.warn({ err }, 'the mail server refused a message');
      throw mailFailed();
    }
  }

  /** Public routes do not pass the guard's tenant check. */
  private async assertTenant(tenantId: string) {
    if (tenantId.length > 63 || !(await this.tenants.exists(tenantId))) throw notFound('Tenant');
  }

  /** The user whose address this is (case-insensitively), never a username match. */
  async userByEmail(tenantId: string, email: string): Promise<UserEntity | null> {
    if (typeof email !== 'string' || !email.includes('@')) return null;
    const user = await this.users.findForLogin(tenantId, email);
    return user?.email && user.email.toLowerCase() === email.trim().toLowerCase() ? user : null;
  }

  // ---- verification

  async sendVerification(tenantId: string, userId: string): Promise<void> {
    this.mail.assertEnabled();
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    if (!user.email)
      throw badRequest('The user has no email address', [
        { field: 'email', message: 'is not set' },
      ]);
    const token = await this.tokens.issueLink(
      tenantId,
      userId,
      'verify',
      user.email,
      VERIFY_TTL_HOURS * 3_600_000,
    );
    const { display_name } = await this.tenants.settings(tenantId);
    await this.deliver(
      user.email,
      verifyEmailMail(
        display_name,
        this.link(tenantId, 'account/verify-email', token),
        VERIFY_TTL_HOURS,
      ),
    );
  }

  /**
   * A verification mail a public page asks for (sign-up, the verify-email stipulation): counted
   * per requesting IP (429 past it) and per address (past it, nothing is sent, silently).
   */
  async sendVerificationLimited(tenantId: string, userId: string, ip: string | null) {
    this.mail.assertEnabled();
    await this.limits.takeIp(tenantId, ip);
    const user = await this.users.getEntity(tenantId, userId);
    if (!user?.email || !(await this.limits.takeAddress(tenantId, 'verify', user.email))) return;
    await this.sendVerification(tenantId, userId);
  }

  async verify(tenantId: string, token: string, ctx?: AuditContext): Promise<void> {
    await this.assertTenant(tenantId);
    await this.ipGuard(tenantId, ctx);
    const row = await this.claim(tenantId, 'verify', token, ctx);
    const user = await this.users.getEntity(tenantId, row.user_id);
    // A link for an address the user no longer has proves nothing about the current one.
    if (!user || !user.email || user.email.toLowerCase() !== row.new_email?.toLowerCase())
      throw invalidToken();
    await this.users.markVerified(tenantId, user.user_id);
    await this.tokens.spendOthers(tenantId, user.user_id, 'verify');
    this.record(tenantId, user.user_id, 'email.verified', ctx);
  }

  // ---- password reset

  /**
   * Always the same quick answer: the lookup and the mail happen after it, so neither the
   * answer nor its timing says whether an account has the address. Past the per-IP limit the
   * answer is 429; past the per-address limit it is the same answer, and no mail goes out.
   */
  async requestPasswordReset(tenantId: string, email: string, ctx?: AuditContext): Promise<void> {
    await this.assertTenant(tenantId);
    await this.ipGuard(tenantId, ctx);
    this.mail.assertEnabled();
    await this.limits.takeIp(tenantId, ctx?.ip);
    if (ctx?.ip)
      await this.blocker.recordFailure(tenantId, { ip: ctx.ip, method: 'password_reset_request' });
    setImmediate(() => {
      this.sendPasswordReset(tenantId, email, ctx).catch((err: unknown) => {
        this.logger.warn({ err, tenantId }, 'password reset mail failed');
      });
    });
  }

  private async sendPasswordReset(
    tenantId: string,
    email: string,
    ctx: AuditContext | undefined,
  ): Promise<void> {
    // Counted before the lookup, so known and unknown addresses run out alike.
    if (!(await this.limits.takeAddress(tenantId, 'reset', email))) return;
    const user = await this.userByEmail(tenantId, email);
    if (!user || user.is_disabled || !user.email) return;
    // Nobody is signed in: the requester is anonymous, the account is the subject.
    this.record(tenantId, user.user_id, 'password_reset.requested', {
      ...ctx,
      actorType: 'system',
      actorId: null,
    });
    const token = await this.tokens.issueLink(
      tenantId,
      user.user_id,
      'reset',
      user.email,
      RESET_TTL_MINUTES * 60_000,
    );
    const { display_name } = await this.tenants.settings(tenantId);
    await this.mail.send({
      to: user.email,
      ...passwordResetMail(
        display_name,
        this.link(tenantId, 'login/reset', token),
        RESET_TTL_MINUTES,
        await this.passkeyNames(tenantId, user.user_id),
      ),
    });
  }

  /** The user's passkeys by name, newest first (the reset mail lists them). */
  private async passkeyNames(tenantId: string, userId: string): Promise<string[]> {
    const all = Object.assign(new ListQuery(), { limit: 50, offset: 0, sort_direction: -1 });
    const { data } = await this.passkeys.list(tenantId, userId, all);
    return data.map((p) => p.name);
  }

  async confirmPasswordReset(
    tenantId: string,
    token: string,
    password: string,
    ctx?: AuditContext,
  ): Promise<void> {
    await this.assertTenant(tenantId);
    await this.ipGuard(tenantId, ctx);
    const row = await this.claim(tenantId, 'reset', token, ctx);
    const user = await this.users.getEntity(tenantId, row.user_id);
    if (!user || user.is_disabled) throw invalidToken();
    try {
      await this.users.setPassword(tenantId, user.user_id, password);
    } catch (err) {
      // A password the policy refuses: the user tries again with the same link.
      await this.tokens.release(tenantId, row.token_id);
      throw err;
    }
    await this.tokens.spendOthers(tenantId, user.user_id, 'reset');
    this.record(tenantId, user.user_id, 'password_reset.completed', ctx);
  }

  // ---- email change

  /**
   * Mails a confirmation link to the new address. When that address already has an account,
   * its owner gets a notice instead, so the answer does not reveal who is registered. A user
   * with a PIN/pattern must have proved it just before (aux-challenge): the proof is spent here.
   */
  async requestEmailChange(
    tenantId: string,
    userId: string,
    newEmail: string,
    ctx?: AuditContext,
  ): Promise<void> {
    this.mail.assertEnabled();
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    const target = newEmail.trim();
    if (user.email && user.email.toLowerCase() === target.toLowerCase())
      throw badRequest('That is already your email address', [
        { field: 'new_email', message: 'is your current address' },
      ]);
    await this.pinPattern.requireFreshProof(tenantId, userId);
    const { display_name } = await this.tenants.settings(tenantId);
    const owner = await this.userByEmail(tenantId, target);
    // Logged before the mail goes out, the same whether or not the address is taken.
    this.record(tenantId, userId, 'email.change_requested', ctx);
    if (owner) {
      await this.deliver(target, emailInUseMail(display_name));
      return;
    }
    const token = await this.tokens.issueLink(
      tenantId,
      userId,
      'change',
      target,
      CHANGE_TTL_HOURS * 3_600_000,
    );
    await this.deliver(
      target,
      emailChangeMail(
        display_name,
        this.link(tenantId, 'account/confirm-email', token),
        CHANGE_TTL_HOURS,
      ),
    );
  }

  async confirmEmailChange(
    tenantId: string,
    token: string,
    ctx?: AuditContext,
  ): Promise<{ email: string }> {
    await this.assertTenant(tenantId);
    await this.ipGuard(tenantId, ctx);
    const row = await this.claim(tenantId, 'change', token, ctx);
    const user = await this.users.getEntity(tenantId, row.user_id);
    if (!user || !row.new_email) throw invalidToken();
    const previous = user.email;
    try {
      // Following the link proved the new address: it is verified too.
      await this.users.update(tenantId, user.user_id, { email: row.new_email, is_verified: true });
    } catch (err) {
      // Taken by someone else meanwhile (409): the link stays good should the address free up.
      await this.tokens.release(tenantId, row.token_id);
      throw err;
    }
    await this.tokens.spendOthers(tenantId, user.user_id, 'change');
    await this.tokens.spendOthers(tenantId, user.user_id, 'verify');
    this.record(tenantId, user.user_id, 'email.changed', ctx);
    if (previous && this.mail.enabled) {
      const { display_name } = await this.tenants.settings(tenantId);
      this.mail
        .send({ to: previous, ...emailChangedMail(display_name, row.new_email) })
        .catch((err: unknown) => this.logger.warn({ err }, 'email-changed notice failed'));
    }
    return { email: row.new_email };
  }
}
