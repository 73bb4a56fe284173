import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import QRCode from 'qrcode';
import speakeasy from 'speakeasy';
import { IsNull, Raw, type DataSource, type EntityManager } from 'typeorm';
import { constantTimeEqual, deriveTenantKey, SecretBox } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UserEvents } from '../users/user-events.js';
import { UsersService } from '../users/users.service.js';
import { RecoveryCodeEntity, UserTotpEntity } from './mfa.entities.js';
import { recoveryCodeMatches } from './recovery-keys.js';
import {
  keyedHash,
  newRecoveryCode,
  newTotpSecret,
  normalizeRecoveryCode,
  RECOVERY_CODE_COUNT,
  totpStep,
} from './otp-codes.js';
import { DomainError } from '../common/domain-error.js';

/** Steps accepted either side of now: tolerates 30 s of clock drift. */
const WINDOW = 1;
const TOTP_CODE = /^\d{6}$/;
/** Consecutive codes a user may try before a pause; six digits must not be guessable. */
const MAX_TRIES = 5;
const LOCKOUT = `interval '5 minutes'`;

type Outcome = 'ok' | 'wrong' | 'locked';

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_png_data_url: string;
}

export interface TotpStatus {
  enabled: boolean;
  pending: boolean;
  enabled_at: string | null;
  recovery_codes_left: number;
}

export const invalidCode = () =>
  new DomainError('invalid', 'invalid-code', 'The code is wrong, expired or already used', {
    title: 'Invalid code',
    fields: [{ field: 'code', message: 'is wrong, expired or already used' }],
  });

export const tooManyCodes = () =>
  new DomainError(
    'too-many',
    'too-many-attempts',
    'Too many wrong codes: wait a few minutes before trying again',
    { title: 'Too many attempts', retryAfterSeconds: 300 },
  );

/** What a sealed TOTP secret is bound to: its tenant and user. */
export const totpAad = (tenantId: string, userId: string) =>
  `tenant:${tenantId}:user:${userId}:totp`;

const totpState = (detail: string) =>
  new DomainError('conflict', 'totp-state', detail, { title: 'Conflict' });

/**
 * TOTP second factor (RFC 6238, SHA-1, 6 digits, 30 s) and its recovery codes. Secrets are
 * sealed with the master key, bound to tenant and user; each accepted code moves the user's
 * last used step forward atomically, so a code is good once even inside its window.
 */
@Injectable()
export class TotpService {
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(UserTotpEntity) private readonly totp: TenantRepository<UserTotpEntity>,
    @InjectTenantRepository(RecoveryCodeEntity)
    private readonly recovery: TenantRepository<RecoveryCodeEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
    private readonly userEvents: UserEvents,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  private record(
    tenantId: string,
    userId: string,
    type: string,
    ctx: AuditContext | undefined,
    extra: { method?: string; details?: Record<string, unknown> } = {},
  ) {
    this.audit.recordForUser(tenantId, userId, type, ctx, extra.method ?? 'totp', extra.details);
  }

  /**
   * Self-service proof checks count per IP in the brute-force blocker, on top of the per-user
   * pause (MAX_TRIES): a blocked address gets 429 before any code is compared. Not per
   * username: the caller already holds the user's key, the pause caps guesses per user, and a
   * mistake here must not lock the user out of signing in (the login counts usernames).
   */
  private async guard(tenantId: string, ctx: AuditContext | undefined) {
    const verdict = await this.blocker.check(tenantId, { ip: ctx?.ip });
    if (verdict.blocked) throw tooManyAttempts(verdict);
  }

  /** A wrong code: counted by the blocker and logged. A paused user's tries are not checks. */
  private async outcome(
    tenantId: string,
    user: UserEntity,
    ctx: AuditContext | undefined,
    outcome: Outcome,
    action: string,
    method = 'totp',
  ): Promise<void> {
    if (outcome !== 'wrong') return;
    await this.blocker.recordFailure(tenantId, { ip: ctx?.ip, method });
    this.audit.record({
      tenantId,
      type: 'mfa.verify.failure',
      actorType: 'user',
      actorId: user.user_id,
      subjectType: 'user',
      subjectId: user.user_id,
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ?? null,
      outcome: 'failure',
      method,
      details: { action },
    });
  }

  private aad(tenantId: string, userId: string) {
    return totpAad(tenantId, userId);
  }

  private recoveryHash(tenantId: string, userId: string, normalized: string): string {
    const key = deriveTenantKey(this.config.masterKey, { tenantId, purpose: 'recovery-codes' });
    return keyedHash(key, `${userId}:${normalized}`);
  }

  private async user(tenantId: string, userId: string) {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    return user;
  }

  /** Starts (or restarts) an enrolment; the secret is active only after confirm(). */
  async enrol(tenantId: string, userId: string, ctx?: AuditContext): Promise<TotpEnrolment> {
    const user = await this.user(tenantId, userId);
    const existing = await this.totp.findOne(tenantId, { user_id: userId });
    if (existing?.is_enabled) throw totpState('TOTP is already enabled; disable it first');
    const secret = newTotpSecret();
    const { display_name } = await this.tenants.settings(tenantId);
    await this.dataSource.transaction(async (m) => {
      await this.totp.delete(tenantId, { user_id: userId, is_enabled: false }, m);
      await this.totp.insert(
        tenantId,
        {
          user_id: userId,
          secret_sealed: this.box.seal(secret, this.aad(tenantId, userId)),
          is_enabled: false,
          last_used_step: null,
          failed_attempts: 0,
          failed_at: null,
          created_at: new Date(),
          enabled_at: null,
        },
        m,
      );
    });
    const otpauth_uri = speakeasy.otpauthURL({
      secret,
      encoding: 'base32',
      label: user.username,
      issuer: display_name,
      algorithm: 'sha1',
      digits: 6,
      period: 30,
    });
    const qr_png_data_url = await QRCode.toDataURL(otpauth_uri, { errorCorrectionLevel: 'M' });
    this.record(tenantId, userId, 'mfa.totp.enrolled', ctx, { details: { pending: true } });
    return { secret, otpauth_uri, qr_png_data_url };
  }

  /** Activates a pending enrolment with a first code; answers the recovery codes, shown this once. */
  async confirm(
    tenantId: string,
    userId: string,
    code: string,
    ctx?: AuditContext,
  ): Promise<{ enabled: true; recovery_codes: string[] }> {
    const user = await this.user(tenantId, userId);
    const row = await this.totp.findOne(tenantId, { user_id: userId });
    if (!row) throw totpState('No TOTP enrolment is pending: enrol first');
    if (row.is_enabled) throw totpState('TOTP is already enabled');
    await this.guard(tenantId, ctx);
    const outcome = await this.accept(tenantId, userId, row, code);
    await this.outcome(tenantId, user, ctx, outcome, 'confirm');
    check(outcome);
    const recovery_codes = await this.dataSource.transaction(async (m) => {
      const updated = await this.totp.update(
        tenantId,
        { user_id: userId, is_enabled: false },
        { is_enabled: true, enabled_at: new Date() },
        m,
      );
      if (updated !== 1) throw totpState('TOTP is already enabled');
      return this.replaceRecoveryCodes(tenantId, userId, m);
    });
    this.record(tenantId, userId, 'mfa.totp.confirmed', ctx);
    await this.userEvents.emit({
      type: 'credential_added',
      tenantId,
      userId,
      credential: { kind: 'totp' },
    });
    return { enabled: true, recovery_codes };
  }

  /**
   * A code of the user's active authenticator, once; false for anything else: no TOTP, a
   * wrong or replayed code, or a user paused after too many wrong codes.
   */
  async verifyTotp(tenantId: string, userId: string, code: string): Promise<boolean> {
    const row = await this.totp.findOne(tenantId, { user_id: userId, is_enabled: true });
    if (!row) return false;
    return (await this.accept(tenantId, userId, row, code)) === 'ok';
  }

  /**
   * Each try first claims one of MAX_TRIES slots (atomically, so parallel guesses count too);
   * a success gives them all back. After MAX_TRIES wrong codes the user waits LOCKOUT.
   */
  private async claimTry(tenantId: string, userId: string): Promise<boolean> {
    const claimed = await this.totp.update(
      tenantId,
      {
        user_id: userId,
        failed_attempts: Raw(
          (col) => `(${col} < :max OR failed_at IS NULL OR failed_at < now() - ${LOCKOUT})`,
          { max: MAX_TRIES },
        ),
      },
      {
        failed_attempts: (() =>
          `CASE WHEN failed_at IS NULL OR failed_at < now() - ${LOCKOUT} THEN 1 ELSE failed_attempts + 1 END`) as never,
        failed_at: (() => 'now()') as never,
      },
    );
    return claimed === 1;
  }

  private async accept(
    tenantId: string,
    userId: string,
    row: UserTotpEntity,
    code: string,
  ): Promise<Outcome> {
    if (!(await this.claimTry(tenantId, userId))) return 'locked';
    if (typeof code !== 'string') return 'wrong';
    const given = code.replace(/\s/g, '');
    if (!TOTP_CODE.test(given)) return 'wrong';
    const secret = this.box.openString(row.secret_sealed, this.aad(tenantId, userId));
    const now = totpStep(Date.now());
    let matched: number | null = null;
    // Every step of the window is computed and compared: no early exit to time.
    for (let step = now - WINDOW; step <= now + WINDOW; step += 1) {
      const expected = speakeasy.totp({ secret, encoding: 'base32', counter: step, digits: 6 });
      if (constantTimeEqual(expected, given)) matched = step;
    }
    if (matched === null) return 'wrong';
    // Moving the step forward is the claim: of two requests with one code, one wins.
    const claimed = await this.totp.update(
      tenantId,
      {
        user_id: userId,
        secret_sealed: row.secret_sealed,
        last_used_step: Raw((col) => `(${col} IS NULL OR ${col} < :step)`, { step: matched }),
      },
      { last_used_step: String(matched), failed_attempts: 0, failed_at: null },
    );
    return claimed === 1 ? 'ok' : 'wrong';
  }

  /** Turns TOTP off after proof: a current code or an unused recovery code. */
  async disable(tenantId: string, userId: string, code: string, ctx?: AuditContext): Promise<void> {
    const user = await this.user(tenantId, userId);
    const row = await this.totp.findOne(tenantId, { user_id: userId, is_enabled: true });
    if (!row) throw totpState('TOTP is not enabled');
    await this.guard(tenantId, ctx);
    // A recovery code still works while TOTP tries are paused: it is not guessable.
    const outcome = await this.accept(tenantId, userId, row, code);
    let method = 'totp';
    if (outcome !== 'ok') {
      if (!(await this.consumeRecoveryCode(tenantId, userId, code, ctx))) {
        const looksLikeRecovery = typeof code === 'string' && !TOTP_CODE.test(code.trim());
        await this.outcome(
          tenantId,
          user,
          ctx,
          outcome === 'locked' && looksLikeRecovery ? 'wrong' : outcome,
          'disable',
          looksLikeRecovery ? 'recovery_code' : 'totp',
        );
        check(outcome);
      }
      method = 'recovery_code';
    }
    await this.removeAll(tenantId, userId);
    this.record(tenantId, userId, 'mfa.totp.disabled', ctx, { method });
  }

  /** Admin reset: the user enrols again at their next sign-in if the tenant requires 2FA. */
  async reset(tenantId: string, userId: string): Promise<void> {
    // Recorded by the admin audit interceptor as admin.user.totp.delete (actor: the API key).
    await this.user(tenantId, userId);
    await this.removeAll(tenantId, userId);
  }

  private async removeAll(tenantId: string, userId: string) {
    await this.dataSource.transaction(async (m) => {
      await this.recovery.delete(tenantId, { user_id: userId }, m);
      await this.totp.delete(tenantId, { user_id: userId }, m);
    });
  }

  async status(tenantId: string, userId: string): Promise<TotpStatus> {
    const row = await this.totp.findOne(tenantId, { user_id: userId });
    const enabled = row?.is_enabled ?? false;
    return {
      enabled,
      pending: row !== null && !row.is_enabled,
      enabled_at: row?.enabled_at?.toISOString() ?? null,
      recovery_codes_left: enabled ? await this.recoveryCodesLeft(tenantId, userId) : 0,
    };
  }

  recoveryCodesLeft(tenantId: string, userId: string): Promise<number> {
    return this.recovery.count(tenantId, { user_id: userId, used_at: IsNull() });
  }

  /** New recovery codes after proof with a current TOTP code; the old ones stop working. */
  async regenerateRecoveryCodes(
    tenantId: string,
    userId: string,
    code: string,
    ctx?: AuditContext,
  ): Promise<{ recovery_codes: string[] }> {
    const user = await this.user(tenantId, userId);
    const row = await this.totp.findOne(tenantId, { user_id: userId, is_enabled: true });
    if (!row) throw totpState('TOTP is not enabled');
    await this.guard(tenantId, ctx);
    const outcome = await this.accept(tenantId, userId, row, code);
    await this.outcome(tenantId, user, ctx, outcome, 'regenerate_recovery_codes');
    check(outcome);
    const recovery_codes = await this.dataSource.transaction((m) =>
      this.replaceRecoveryCodes(tenantId, userId, m),
    );
    this.record(tenantId, userId, 'mfa.recovery_codes.regenerated', ctx, {
      details: { count: recovery_codes.length },
    });
    return { recovery_codes };
  }

  private async replaceRecoveryCodes(
    tenantId: string,
    userId: string,
    m: EntityManager,
  ): Promise<string[]> {
    await this.recovery.delete(tenantId, { user_id: userId }, m);
    const codes = new Set<string>();
    while (codes.size < RECOVERY_CODE_COUNT) codes.add(newRecoveryCode());
    const now = new Date();
    for (const code of codes) {
      await this.recovery.insert(
        tenantId,
        {
          user_id: userId,
          code_hash: this.recoveryHash(tenantId, userId, normalizeRecoveryCode(code)!),
          created_at: now,
          used_at: null,
        },
        m,
      );
    }
    return [...codes];
  }

  /**
   * Spends one recovery code of a user with TOTP enabled; true once per code. A spent code is
   * logged (mfa.recovery_code.used); pass the request's context so the event has its address.
   * The caller counts failures with the blocker (method recovery_code).
   */
  async consumeRecoveryCode(
    tenantId: string,
    userId: string,
    code: string,
    ctx?: AuditContext,
  ): Promise<boolean> {
    const normalized = typeof code === 'string' ? normalizeRecoveryCode(code) : null;
    const candidate = this.recoveryHash(tenantId, userId, normalized ?? '-');
    const unused = await this.recovery.find(tenantId, {
      where: { user_id: userId, used_at: IsNull() },
    });
    let hit: string | null = null;
    const mine = () => ({ tenantId, userId, normalized: normalized ?? '-', box: this.box });
    for (const r of unused)
      if (recoveryCodeMatches(r.code_hash, candidate, mine)) hit = r.code_hash;
    if (normalized === null || hit === null) return false;
    const spent = await this.recovery.update(
      tenantId,
      { user_id: userId, code_hash: hit, used_at: IsNull() },
      { used_at: new Date() },
    );
    if (spent !== 1) return false;
    this.record(tenantId, userId, 'mfa.recovery_code.used', ctx, {
      method: 'recovery_code',
      details: { codes_left: await this.recoveryCodesLeft(tenantId, userId) },
    });
    return true;
  }

  /** Whether the user has an active second factor (TOTP); the login asks before letting them in. */
  async hasSecondFactor(tenantId: string, userId: string): Promise<boolean> {
    return (await this.totp.count(tenantId, { user_id: userId, is_enabled: true })) > 0;
  }
}

function check(outcome: Outcome): void {
  if (outcome === 'locked') throw tooManyCodes();
  if (outcome === 'wrong') throw invalidCode();
}
