import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { LessThan } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { EmailTokensService } from './email-tokens.service.js';
import { MailLimitEntity } from './mail-limit.entity.js';
import { DomainError } from '../common/domain-error.js';

export interface MailLimit {
  max: number;
  windowSeconds: number;
}

/** Requests for mail from one IP in a tenant (sign-in codes and resets together). */
export const IP_MAIL_LIMIT: MailLimit = { max: 20, windowSeconds: 900 };
/** Mails to one address for one purpose; past it, requests are answered alike and mail nothing. */
export const ADDRESS_MAIL_LIMIT: MailLimit = { max: 5, windowSeconds: 900 };

export const tooManyMailRequests = () =>
  new DomainError(
    'too-many',
    'too-many-requests',
    'Too many mail requests from this network; try again later',
    { title: 'Too many requests', retryAfterSeconds: IP_MAIL_LIMIT.windowSeconds },
  );

/** An IPv6 caller can change the low 64 bits at will: count the /64. */
export function ipSubject(ip: string): string {
  const v = ip.trim().toLowerCase();
  if (v.startsWith('::ffff:') && isIP(v.slice(7)) === 4) return `ip:${v.slice(7)}`;
  if (isIP(v) !== 6) return `ip:${v}`;
  const [head, tail = ''] = v.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = v.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `ip:${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Counts the public requests that send mail, in PostgreSQL so every replica sees the same
 * counts. One upsert per request on the subject's row is the whole check: concurrent requests
 * for one subject queue on that row, and each sees the count the previous one left, so a
 * burst cannot slip past the limit. A window opens with the first request after the last one
 * ran out.
 */
@Injectable()
export class MailLimits {
  private taken = 0;

  constructor(
    @InjectTenantRepository(MailLimitEntity)
    private readonly limits: TenantRepository<MailLimitEntity>,
    private readonly tokens: EmailTokensService,
  ) {}

  /** Throws 429 once the requesting IP is over its limit (it says nothing about any account). */
  async takeIp(tenantId: string, ip: string | null | undefined): Promise<void> {
    if (!ip) return;
    if (!(await this.take(tenantId, ipSubject(ip), IP_MAIL_LIMIT))) throw tooManyMailRequests();
  }

  /** False once the address had its share of mail for this purpose: send nothing. */
  takeAddress(
    tenantId: string,
    purpose: 'login' | 'reset' | 'pin_pattern' | 'verify',
    email: string,
  ): Promise<boolean> {
    const key = this.tokens.hash(tenantId, `mail-limit:${email.trim().toLowerCase()}`);
    return this.take(tenantId, `address:${purpose}:${key}`, ADDRESS_MAIL_LIMIT);
  }

  private async take(tenantId: string, subject: string, limit: MailLimit): Promise<boolean> {
    const over = `l.window_start <= now() - $3::int * interval '1 second'`;
    const rows = await this.limits.sql(
      tenantId,
      'mail_limit_take',
      `INSERT INTO mail_limits AS l (tenant_id, subject, window_start, count)
       VALUES ($1, $2, now(), 1)
       ON CONFLICT (tenant_id, subject) DO UPDATE SET
         count = CASE WHEN ${over} THEN 1 ELSE l.count + 1 END,
         window_start = CASE WHEN ${over} THEN now() ELSE l.window_start END
       WHERE l.tenant_id = $1 AND (${over} OR l.count < $4::int)
       RETURNING count`,
      [subject, limit.windowSeconds, limit.max],
    );
    // Rows whose window is long over are useless; sweep the tenant's now and then, not in a job.
    this.taken += 1;
    if (this.taken % 100 === 0)
      await this.limits.delete(tenantId, {
        window_start: LessThan(new Date(Date.now() - 86_400_000)),
      });
    return rows.length === 1;
  }
}
