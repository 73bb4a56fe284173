import { randomInt } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { constantTimeEqual } from '../../libs/crypto/index.js';
import type { AuditContext } from '../audit/audit.service.js';
import { BlockerService } from '../blocker/blocker.service.js';
import { MailService } from '../mail/mail.service.js';
import { loginCodeMail } from '../mail/templates.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { EmailFlowsService } from './email-flows.service.js';
import { EmailTokensService } from './email-tokens.service.js';
import { MailLimits } from './mail-limits.js';

const CODE_TTL_MINUTES = 10;
const MAX_TRIES = 5;
const CODE = /^\d{6}$/;

/**
 * One-time sign-in codes by mail (6 digits, 10 minutes, 5 guesses). Asking again while a code
 * is live resends that code (kept sealed with the master key), so a stranger's request cannot
 * kill the code a user is typing; only a spent, expired or exhausted code is replaced. Requests
 * are limited per IP (429) and per address (silently: no mail). For the hosted login: issue()
 * never tells whether the address exists.
 */
@Injectable()
export class LoginCodeService {
  private readonly logger = new Logger('LoginCode');

  constructor(
    private readonly tokens: EmailTokensService,
    private readonly flows: EmailFlowsService,
    private readonly mail: MailService,
    private readonly tenants: TenantsService,
    private readonly blocker: BlockerService,
    private readonly limits: MailLimits,
  ) {}

  private hash(tenantId: string, userId: string, code: string) {
    return this.tokens.hash(tenantId, `login:${userId}:${code}`);
  }

  /**
   * Answers at once (503 problem when mail is off); the lookup and the mail follow, so the
   * caller's answer and timing are the same for every address. A caller over the per-IP limit
   * gets the 429 problem instead (it says nothing about the address).
   */
  async issue(tenantId: string, email: string, ip?: string | null): Promise<void> {
    this.mail.assertEnabled();
    await this.limits.takeIp(tenantId, ip);
    setImmediate(() => {
      this.deliver(tenantId, email).catch((err: unknown) => {
        this.logger.warn({ err, tenantId }, 'sign-in code mail failed');
      });
    });
  }

  private async deliver(tenantId: string, email: string): Promise<void> {
    // Counted before the lookup, so known and unknown addresses run out alike.
    if (!(await this.limits.takeAddress(tenantId, 'login', email))) return;
    const user = await this.flows.userByEmail(tenantId, email);
    if (!user || user.is_disabled || !user.email) return;
    const { code, minutes } = await this.liveOrNewCode(tenantId, user.user_id, user.email);
    const { display_name } = await this.tenants.settings(tenantId);
    await this.mail.send({
      to: user.email,
      ...loginCodeMail(display_name, code, minutes),
    });
  }

  /** The live code with its remaining minutes, or a new one replacing a used-up code. */
  private async liveOrNewCode(tenantId: string, userId: string, email: string) {
    const live = await this.tokens.latestOpen(tenantId, userId, 'login');
    const kept = live && live.attempts < MAX_TRIES ? this.tokens.openSecret(live) : null;
    if (live && kept) {
      const left = Math.ceil((live.expires_at.getTime() - Date.now()) / 60_000);
      return { code: kept, minutes: Math.max(1, left) };
    }
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.tokens.spendOthers(tenantId, userId, 'login');
    await this.tokens.insert(
      tenantId,
      userId,
      'login',
      this.hash(tenantId, userId, code),
      email,
      CODE_TTL_MINUTES * 60_000,
      code,
    );
    return { code, minutes: CODE_TTL_MINUTES };
  }

  /**
   * The user id the code signs in, once; null for a wrong, expired, spent or exhausted code.
   * With the request's `ctx` (the hosted login passes it) the check goes through the
   * brute-force blocker per IP and per address as typed: while either is blocked the answer is
   * null, as for a wrong code (no enumeration); a miss counts (method email_code), a success
   * forgives the address.
   */
  async consume(
    tenantId: string,
    email: string,
    code: string,
    ctx?: AuditContext,
  ): Promise<string | null> {
    if (!ctx) return this.check(tenantId, email, code);
    const who = { ip: ctx.ip, username: typeof email === 'string' ? email : null };
    const blocker = await this.blocker.check(tenantId, who);
    if (blocker.blocked) return null;
    const userId = await this.check(tenantId, email, code);
    if (userId) await this.blocker.recordSuccess(tenantId, who, blocker);
    else await this.blocker.recordFailure(tenantId, { ...who, method: 'email_code' });
    return userId;
  }

  private async check(tenantId: string, email: string, code: string): Promise<string | null> {
    const user = await this.flows.userByEmail(tenantId, email);
    if (!user || user.is_disabled) return null;
    const row = await this.tokens.latestOpen(tenantId, user.user_id, 'login');
    if (!row) return null;
    if (!(await this.tokens.countAttempt(tenantId, row.token_id, MAX_TRIES))) return null;
    const given = typeof code === 'string' ? code.trim() : '';
    const match =
      CODE.test(given) &&
      constantTimeEqual(row.token_hash, this.hash(tenantId, user.user_id, given));
    if (!match) return null;
    return (await this.tokens.spend(tenantId, row.token_id)) ? user.user_id : null;
  }
}
