import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { IsNull, LessThan, Raw } from 'typeorm';
import { constantTimeEqual, randomToken } from '../../libs/crypto/index.js';
import { isUuid } from '../common/ids.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { MailService } from '../mail/mail.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { EmailFlowsService } from './email-flows.service.js';
import { EmailTokensService } from './email-tokens.service.js';
import { magicLinkMail } from './magic-links.mail.js';
import { MailLimits } from './mail-limits.js';
import { SignInLinkEntity, type SignInLinkKind } from './sign-in-link.entity.js';

export const MAGIC_LINK_TTL_MINUTES = 10;
const MAX_CODE_TRIES = 5;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^\d{6}$/;

/**
 * One-time sign-in links (decision 0032). A magic link is mailed from the hosted login for one
 * pending authorisation and is bound to the browser that asked by a random nonce (a cookie of
 * that browser; its keyed hash is in the row). Opened in that browser, the link signs in; opened
 * in another, that browser shows a 6-digit code derived from the link, which the user types in
 * the browser that asked. Admin links (support) are issued by the API for one user, with no
 * authorisation or browser bound. Tokens, nonces and codes are stored as keyed hashes only.
 */
@Injectable()
export class MagicLinksService {
  private readonly logger = new Logger('MagicLinks');
  private issued = 0;

  constructor(
    @InjectTenantRepository(SignInLinkEntity)
    private readonly links: TenantRepository<SignInLinkEntity>,
    private readonly tokens: EmailTokensService,
    private readonly flows: EmailFlowsService,
    private readonly mail: MailService,
    private readonly tenants: TenantsService,
    private readonly limits: MailLimits,
  ) {}

  private hash(tenantId: string, what: string, value: string): string {
    return this.tokens.hash(tenantId, `sign-in-link:${what}:${value}`);
  }

  /** A fresh browser nonce (the cookie value of the browser that asks for a link). */
  newNonce(): string {
    return randomToken(32);
  }

  isNonce(value: unknown): value is string {
    return typeof value === 'string' && NONCE.test(value);
  }

  /** The code another browser shows for a link: derived from the token, so nothing is kept. */
  codeOf(tenantId: string, token: string): string {
    const n = parseInt(this.hash(tenantId, 'code-of', token).slice(0, 12), 16) % 1_000_000;
    return n.toString().padStart(6, '0');
  }

  /**
   * Answers at once (503 problem when mail is off, 429 over the per-IP mail limit); the lookup
   * and the mail follow, so the answer and its timing are the same for every address.
   */
  async request(
    tenantId: string,
    email: string,
    uid: string,
    nonce: string,
    urlOf: (token: string) => string,
    ip: string | null,
  ): Promise<void> {
    this.mail.assertEnabled();
    await this.limits.takeIp(tenantId, ip);
    setImmediate(() => {
      this.deliver(tenantId, email, uid, nonce, urlOf).catch((err: unknown) => {
        this.logger.warn({ err, tenantId }, 'sign-in link mail failed');
      });
    });
  }

  private async deliver(
    tenantId: string,
    email: string,
    uid: string,
    nonce: string,
    urlOf: (token: string) => string,
  ): Promise<void> {
    // Counted before the lookup (shared with sign-in codes), so every address runs out alike.
    if (!(await this.limits.takeAddress(tenantId, 'login', email))) return;
    const user = await this.flows.userByEmail(tenantId, email);
    if (!user || user.is_disabled || !user.email) return;
    const token = await this.insert(tenantId, 'magic', user.user_id, MAGIC_LINK_TTL_MINUTES * 60, {
      interaction_uid: uid,
      nonce_hash: this.hash(tenantId, 'nonce', nonce),
    });
    const { display_name } = await this.tenants.settings(tenantId);
    await this.mail.send({
      to: user.email,
      ...magicLinkMail(display_name, urlOf(token), MAGIC_LINK_TTL_MINUTES),
    });
  }

  /** An admin's support link for a user: the token (shown once) and when it expires. */
  async issueAdmin(
    tenantId: string,
    userId: string,
    ttlSeconds: number,
    actor: string | null,
  ): Promise<{ id: string; token: string; expiresAt: Date }> {
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const token = await this.insert(tenantId, 'admin', userId, ttlSeconds, {
      link_id: id,
      created_by: actor,
    });
    return { id, token, expiresAt };
  }

  /** A user's admin support tokens, newest first by default (never the tokens themselves). */
  async listAdmin(
    tenantId: string,
    userId: string,
    q: { limit: number; offset: number; sort_direction: -1 | 1 },
  ): Promise<[SignInLinkEntity[], number]> {
    return this.links.findAndCount(tenantId, {
      where: { user_id: userId, kind: 'admin' },
      order: { created_at: q.sort_direction === -1 ? 'DESC' : 'ASC', link_id: 'ASC' },
      take: q.limit,
      skip: q.offset,
    });
  }

  /** Removes one of a user's admin support tokens; false when there is no such token. */
  async revokeAdmin(tenantId: string, userId: string, linkId: string): Promise<boolean> {
    if (!isUuid(linkId)) return false;
    return (
      (await this.links.delete(tenantId, { link_id: linkId, user_id: userId, kind: 'admin' })) > 0
    );
  }

  private async insert(
    tenantId: string,
    kind: SignInLinkKind,
    userId: string,
    ttlSeconds: number,
    extra: Partial<SignInLinkEntity>,
  ): Promise<string> {
    const token = randomToken(32);
    const linkId = extra.link_id ?? randomUUID();
    const now = Date.now();
    await this.links.insert(tenantId, {
      link_id: linkId,
      kind,
      token_hash: this.hash(tenantId, 'token', token),
      user_id: userId,
      interaction_uid: null,
      nonce_hash: null,
      code_hash:
        kind === 'magic'
          ? this.hash(tenantId, `code:${linkId}`, this.codeOf(tenantId, token))
          : null,
      attempts: 0,
      created_by: null,
      created_at: new Date(now),
      expires_at: new Date(now + ttlSeconds * 1000),
      consumed_at: null,
      ...extra,
    });
    // Spent and expired links are useless; sweep the tenant's now and then instead of a job.
    this.issued += 1;
    if (this.issued % 50 === 0)
      await this.links.delete(tenantId, { expires_at: LessThan(new Date(now - 86_400_000)) });
    return token;
  }

  /** A live link of `kind` by its token (for a magic link: of this authorisation), unspent. */
  async peek(
    tenantId: string,
    kind: SignInLinkKind,
    token: unknown,
    uid?: string,
  ): Promise<SignInLinkEntity | null> {
    if (typeof token !== 'string' || !TOKEN.test(token)) return null;
    const row = await this.links.findOne(tenantId, {
      token_hash: this.hash(tenantId, 'token', token),
      kind,
    });
    if (!row || row.consumed_at || row.expires_at.getTime() <= Date.now()) return null;
    if (kind === 'magic' && row.interaction_uid !== uid) return null;
    return row;
  }

  /** Whether `nonce` is the one of the browser that asked for this link. */
  askedBy(row: SignInLinkEntity, nonce: unknown): boolean {
    return (
      this.isNonce(nonce) &&
      !!row.nonce_hash &&
      constantTimeEqual(row.nonce_hash, this.hash(row.tenant_id, 'nonce', nonce))
    );
  }

  /**
   * Spends a link (a magic one: in the browser that asked for it): its row, once; null
   * for anything else. The conditional UPDATE is the claim, so two clicks cannot both win.
   */
  async consumeLink(
    tenantId: string,
    kind: SignInLinkKind,
    token: unknown,
    uid?: string,
    nonce?: unknown,
  ): Promise<SignInLinkEntity | null> {
    const row = await this.peek(tenantId, kind, token, uid);
    if (!row) return null;
    if (kind === 'magic' && !this.askedBy(row, nonce)) return null;
    return (await this.spend(tenantId, row.link_id)) ? row : null;
  }

  /**
   * The code shown by another browser, typed in the browser that asked: the newest open link of
   * this authorisation and nonce, five guesses; the user id once, else null.
   */
  async consumeCode(
    tenantId: string,
    uid: string,
    nonce: unknown,
    code: unknown,
  ): Promise<string | null> {
    if (!this.isNonce(nonce)) return null;
    const [row] = await this.links.find(tenantId, {
      where: {
        kind: 'magic',
        interaction_uid: uid,
        nonce_hash: this.hash(tenantId, 'nonce', nonce),
        consumed_at: IsNull(),
        expires_at: Raw((c) => `${c} > now()`),
      },
      order: { created_at: 'DESC' },
      take: 1,
    });
    if (!row?.code_hash) return null;
    const counted = await this.links.update(
      tenantId,
      {
        link_id: row.link_id,
        consumed_at: IsNull(),
        attempts: Raw((c) => `${c} < :max`, { max: MAX_CODE_TRIES }),
      },
      { attempts: (() => 'attempts + 1') as never },
    );
    if (counted !== 1) return null;
    const given = typeof code === 'string' ? code.replace(/[\s-]/g, '') : '';
    const match =
      CODE.test(given) &&
      constantTimeEqual(row.code_hash, this.hash(tenantId, `code:${row.link_id}`, given));
    if (!match) return null;
    return (await this.spend(tenantId, row.link_id)) ? row.user_id : null;
  }

  private async spend(tenantId: string, linkId: string): Promise<boolean> {
    const spent = await this.links.update(
      tenantId,
      { link_id: linkId, consumed_at: IsNull(), expires_at: Raw((c) => `${c} > now()`) },
      { consumed_at: new Date() },
    );
    return spent === 1;
  }
}
