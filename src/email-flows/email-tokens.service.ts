import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { IsNull, LessThan, Not, Raw } from 'typeorm';
import { randomToken, SecretBox } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { deriveTenantKey } from '../../libs/crypto/index.js';
import { keyedHash } from '../mfa/otp-codes.js';
import { EmailTokenEntity, type EmailTokenPurpose } from './email-token.entity.js';
import { DomainError } from '../common/domain-error.js';

const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const invalidToken = () =>
  new DomainError('invalid', 'invalid-token', 'The link is invalid or was already used', {
    title: 'Invalid link',
    fields: [{ field: 'token', message: 'is invalid or was already used' }],
  });

export const expiredToken = () =>
  new DomainError('invalid', 'token-expired', 'The link has expired: ask for a new one', {
    title: 'Link expired',
    fields: [{ field: 'token', message: 'has expired' }],
  });

/** Issues, claims and spends the single-use secrets the email flows send. */
@Injectable()
export class EmailTokensService {
  private issued = 0;
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(EmailTokenEntity)
    private readonly tokens: TenantRepository<EmailTokenEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  private secretAad(tenantId: string, tokenId: string) {
    return `tenant:${tenantId}:email-token:${tokenId}`;
  }

  /** The sealed secret of a token (a sign-in code), or null when none was kept or it fails. */
  openSecret(row: EmailTokenEntity): string | null {
    if (!row.secret_sealed) return null;
    try {
      return this.box.openString(row.secret_sealed, this.secretAad(row.tenant_id, row.token_id));
    } catch {
      return null;
    }
  }

  hash(tenantId: string, value: string): string {
    return keyedHash(
      deriveTenantKey(this.config.masterKey, { tenantId, purpose: 'email-tokens' }),
      value,
    );
  }

  /** A new link token (shown once, in the mail); only its keyed hash is stored. */
  async issueLink(
    tenantId: string,
    userId: string,
    purpose: Exclude<EmailTokenPurpose, 'login'>,
    email: string,
    ttlMs: number,
  ): Promise<string> {
    const token = randomToken(32);
    await this.insert(tenantId, userId, purpose, this.hash(tenantId, token), email, ttlMs);
    return token;
  }

  async insert(
    tenantId: string,
    userId: string,
    purpose: EmailTokenPurpose,
    tokenHash: string,
    email: string | null,
    ttlMs: number,
    /** Kept sealed (master key) so it can be sent again while live; codes only, never links. */
    secret?: string,
  ): Promise<void> {
    const now = Date.now();
    const tokenId = randomUUID();
    await this.tokens.insert(tenantId, {
      token_id: tokenId,
      token_hash: tokenHash,
      user_id: userId,
      purpose,
      new_email: email,
      attempts: 0,
      created_at: new Date(now),
      expires_at: new Date(now + ttlMs),
      consumed_at: null,
      secret_sealed: secret ? this.box.seal(secret, this.secretAad(tenantId, tokenId)) : null,
    });
    // Spent and expired tokens are useless; sweep the tenant's now and then instead of a job.
    this.issued += 1;
    if (this.issued % 50 === 0) {
      await this.tokens.delete(tenantId, { expires_at: LessThan(new Date(now - 86_400_000)) });
    }
  }

  /** A live link token's row, without spending it (a step before the one that spends it). */
  async peekLink(
    tenantId: string,
    purpose: Exclude<EmailTokenPurpose, 'login'>,
    token: string,
  ): Promise<EmailTokenEntity> {
    if (typeof token !== 'string' || !LINK_TOKEN.test(token)) throw invalidToken();
    const row = await this.tokens.findOne(tenantId, {
      token_hash: this.hash(tenantId, token),
      purpose,
    });
    if (!row || row.consumed_at) throw invalidToken();
    if (row.expires_at.getTime() <= Date.now()) throw expiredToken();
    return row;
  }

  /**
   * Spends a link token: the conditional UPDATE is the claim, so a link works once even when
   * clicked twice at the same moment. Expired links get their own problem, so pages can offer
   * a new one.
   */
  async claimLink(
    tenantId: string,
    purpose: Exclude<EmailTokenPurpose, 'login'>,
    token: string,
  ): Promise<EmailTokenEntity> {
    if (typeof token !== 'string' || !LINK_TOKEN.test(token)) throw invalidToken();
    const row = await this.tokens.findOne(tenantId, {
      token_hash: this.hash(tenantId, token),
      purpose,
    });
    if (!row || row.consumed_at) throw invalidToken();
    if (row.expires_at.getTime() <= Date.now()) throw expiredToken();
    const claimed = await this.tokens.update(
      tenantId,
      { token_id: row.token_id, consumed_at: IsNull(), expires_at: Raw((c) => `${c} > now()`) },
      { consumed_at: new Date() },
    );
    if (claimed !== 1) throw invalidToken();
    return row;
  }

  /** Gives a claimed token back, when what it was for failed for a reason the user can fix. */
  async release(tenantId: string, tokenId: string): Promise<void> {
    await this.tokens.update(tenantId, { token_id: tokenId }, { consumed_at: null });
  }

  /** Spends every other open token of the user for this purpose (after a reset, say). */
  async spendOthers(
    tenantId: string,
    userId: string,
    purpose: EmailTokenPurpose,
    exceptTokenId?: string,
  ): Promise<void> {
    await this.tokens.update(
      tenantId,
      {
        user_id: userId,
        purpose,
        consumed_at: IsNull(),
        ...(exceptTokenId ? { token_id: Not(exceptTokenId) } : {}),
      },
      { consumed_at: new Date() },
    );
  }

  /** The newest open, unexpired token of a user for a purpose. */
  latestOpen(
    tenantId: string,
    userId: string,
    purpose: EmailTokenPurpose,
  ): Promise<EmailTokenEntity | null> {
    return this.tokens
      .find(tenantId, {
        where: {
          user_id: userId,
          purpose,
          consumed_at: IsNull(),
          expires_at: Raw((c) => `${c} > now()`),
        },
        order: { created_at: 'DESC' },
        take: 1,
      })
      .then((rows) => rows[0] ?? null);
  }

  /** Counts one guess against a code; false once it has had `max` guesses (or is gone). */
  async countAttempt(tenantId: string, tokenId: string, max: number): Promise<boolean> {
    const counted = await this.tokens.update(
      tenantId,
      {
        token_id: tokenId,
        consumed_at: IsNull(),
        attempts: Raw((c) => `${c} < :max`, { max }),
      },
      { attempts: (() => 'attempts + 1') as never },
    );
    return counted === 1;
  }

  async spend(tenantId: string, tokenId: string): Promise<boolean> {
    const spent = await this.tokens.update(
      tenantId,
      { token_id: tokenId, consumed_at: IsNull() },
      { consumed_at: new Date() },
    );
    return spent === 1;
  }
}
