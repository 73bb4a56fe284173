import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { isDomainError } from '../common/domain-error.js';
import { notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MailService } from '../mail/mail.service.js';
import { pinPatternLinkMail } from '../mail/templates.js';
import { PinPatternService } from '../pin-pattern/pin-pattern.service.js';
import type { PinPatternPolicy } from '../pin-pattern/pin-pattern-policy.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UsersService } from '../users/users.service.js';
import type { EmailTokenEntity } from './email-token.entity.js';
import { EmailTokensService, invalidToken } from './email-tokens.service.js';
import { EmailFlowsService } from './email-flows.service.js';
import { MailLimits } from './mail-limits.js';

/** A reset the user asked for: short, like a password reset's. */
export const RESET_TTL_MINUTES = 30;
/** An admin's enrolment link, unless the admin says otherwise (`expires_in`). */
export const ADMIN_LINK_TTL_SECONDS = 72 * 3600;

const words = (policy: PinPatternPolicy) =>
  policy.factors.map((f) => (f === 'PIN' ? 'PIN' : 'pattern')).join(' and ');

/**
 * Mailed single-use links that let a user set a new PIN/pattern without being signed in: the
 * user's own reset ("forgot PIN/pattern?") and an admin's enrolment link. Both are email tokens
 * of purpose `pin_pattern` (only a keyed hash stored); the page behind the link runs OPAQUE
 * registration against `reset/start` (checks the token, spends nothing) and `reset/finish`
 * (spends it, stores the record). Requests answer the same whether or not an account has the
 * address; wrong tokens count per IP in the blocker like the other links.
 */
@Injectable()
export class PinPatternLinksService {
  private readonly logger = new Logger('PinPatternLinks');

  constructor(
    private readonly tokens: EmailTokensService,
    private readonly flows: EmailFlowsService,
    private readonly pinPattern: PinPatternService,
    private readonly mail: MailService,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly blocker: BlockerService,
    private readonly limits: MailLimits,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Where a link lands: the hosted page that asks for the new PIN/pattern. */
  linkOf(tenantId: string, token: string): string {
    return `${this.config.publicUrl}/${tenantId}/login/pin-pattern/reset?token=${encodeURIComponent(token)}`;
  }

  private async ipGuard(tenantId: string, ctx: AuditContext | undefined) {
    if (!ctx?.ip) return;
    const check = await this.blocker.check(tenantId, { ip: ctx.ip });
    if (check.blocked) throw tooManyAttempts(check);
  }

  private async assertTenant(tenantId: string) {
    if (tenantId.length > 63 || !(await this.tenants.exists(tenantId))) throw notFound('Tenant');
  }

  // ---- the user's own reset

  /**
   * "Forgot PIN/pattern?": always the same quick answer; the lookup and the mail come after it.
   * Counted per IP (429 past the limit) and per address (silently nothing past it).
   */
  async requestReset(tenantId: string, email: string, ctx?: AuditContext): Promise<void> {
    await this.assertTenant(tenantId);
    await this.pinPattern.policy(tenantId);
    await this.ipGuard(tenantId, ctx);
    this.mail.assertEnabled();
    await this.limits.takeIp(tenantId, ctx?.ip);
    if (ctx?.ip)
      await this.blocker.recordFailure(tenantId, {
        ip: ctx.ip,
        method: 'pin_pattern_reset_request',
      });
    setImmediate(() => {
      this.sendReset(tenantId, email, ctx).catch((err: unknown) => {
        this.logger.warn({ err, tenantId }, 'PIN/pattern reset mail failed');
      });
    });
  }

  private async sendReset(tenantId: string, email: string, ctx: AuditContext | undefined) {
    if (!(await this.limits.takeAddress(tenantId, 'pin_pattern', email))) return;
    const user = await this.flows.userByEmail(tenantId, email);
    if (!user || user.is_disabled || !user.email) return;
    // Only a user who has one can forget it; the others get the offer after signing in.
    if (!(await this.pinPattern.status(tenantId, user.user_id)).enrolled) return;
    this.audit.recordForUser(
      tenantId,
      user.user_id,
      'pin_pattern.reset_requested',
      { ...ctx, actorType: 'system', actorId: null },
      'email_link',
    );
    const token = await this.tokens.issueLink(
      tenantId,
      user.user_id,
      'pin_pattern',
      user.email,
      RESET_TTL_MINUTES * 60_000,
    );
    const policy = await this.pinPattern.policy(tenantId);
    const { display_name } = await this.tenants.settings(tenantId);
    await this.mail.send({
      to: user.email,
      ...pinPatternLinkMail(display_name, this.linkOf(tenantId, token), {
        minutes: RESET_TTL_MINUTES,
        byAdmin: false,
        words: words(policy),
      }),
    });
  }

  // ---- an admin's enrolment link

  /**
   * A one-time link for the user to set or replace their PIN/pattern without signing in. The
   * URL is answered once (only its hash is kept) and mailed to the user when they have an
   * address and mail is configured.
   */
  async createAdminLink(
    tenantId: string,
    userId: string,
    expiresInSeconds: number | undefined,
    ctx: AuditContext,
  ): Promise<{ url: string; expires_at: string; mailed: boolean }> {
    const policy = await this.pinPattern.policy(tenantId);
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    const ttlMs = (expiresInSeconds ?? ADMIN_LINK_TTL_SECONDS) * 1000;
    const token = await this.tokens.issueLink(
      tenantId,
      userId,
      'pin_pattern',
      user.email ?? '',
      ttlMs,
    );
    const url = this.linkOf(tenantId, token);
    const expiresAt = new Date(Date.now() + ttlMs);
    let mailed = false;
    if (user.email && this.mail.enabled) {
      const { display_name } = await this.tenants.settings(tenantId);
      try {
        await this.mail.send({
          to: user.email,
          ...pinPatternLinkMail(display_name, url, {
            minutes: Math.round(ttlMs / 60_000),
            byAdmin: true,
            words: words(policy),
          }),
        });
        mailed = true;
      } catch (err) {
        // The admin has the URL and can pass it on; the answer says it was not mailed.
        this.logger.warn({ err, tenantId }, 'PIN/pattern enrolment mail failed');
      }
    }
    this.audit.recordForUser(tenantId, userId, 'pin_pattern.link_created', ctx, 'email_link', {
      expires_at: expiresAt.toISOString(),
      mailed,
    });
    return { url, expires_at: expiresAt.toISOString(), mailed };
  }

  // ---- following a link: OPAQUE registration in two steps

  /**
   * A live link's token row (`spend`: claimed, so a link works once even when used twice at
   * the same moment); a wrong token counts against the caller's IP.
   */
  async check(
    tenantId: string,
    token: string,
    ctx?: AuditContext,
    spend = false,
  ): Promise<EmailTokenEntity> {
    await this.assertTenant(tenantId);
    await this.ipGuard(tenantId, ctx);
    try {
      const row = spend
        ? await this.tokens.claimLink(tenantId, 'pin_pattern', token)
        : await this.tokens.peekLink(tenantId, 'pin_pattern', token);
      const user = await this.users.getEntity(tenantId, row.user_id);
      if (!user || user.is_disabled) throw invalidToken();
      return row;
    } catch (err) {
      if (ctx?.ip && isDomainError(err) && err.code === 'invalid-token')
        await this.blocker.recordFailure(tenantId, { ip: ctx.ip, method: 'pin_pattern_link' });
      throw err;
    }
  }

  /** Step one: the OPAQUE registration response for the link's user; the link stays live. */
  async start(
    tenantId: string,
    token: string,
    registrationRequest: string,
    ctx?: AuditContext,
  ): Promise<{ registration_response: string }> {
    const row = await this.check(tenantId, token, ctx);
    return this.pinPattern.registerStart(tenantId, { userId: row.user_id }, registrationRequest);
  }

  /** Step two: spends the link and stores the new record (every other open link is spent too). */
  async finish(
    tenantId: string,
    token: string,
    upload: { record: string; protoVersion: string },
    ctx?: AuditContext,
  ) {
    const row = await this.check(tenantId, token, ctx, true);
    let result: Awaited<ReturnType<PinPatternService['setForUser']>>;
    try {
      result = await this.pinPattern.setForUser(tenantId, row.user_id, upload, {
        ...ctx,
        actorType: 'user',
        actorId: row.user_id,
      });
    } catch (err) {
      // A malformed upload: the user may try again with the same link.
      if (isDomainError(err) && err.kind === 'invalid')
        await this.tokens.release(tenantId, row.token_id);
      throw err;
    }
    await this.tokens.spendOthers(tenantId, row.user_id, 'pin_pattern');
    this.audit.recordForUser(
      tenantId,
      row.user_id,
      'pin_pattern.reset_completed',
      ctx,
      'email_link',
    );
    return result;
  }
}
