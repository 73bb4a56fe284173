import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { IsNull, Raw } from 'typeorm';
import { deriveTenantKey, randomToken } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { DomainError, isDomainError } from '../common/domain-error.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { forbidden, notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MailService } from '../mail/mail.service.js';
import { keyedHash } from '../mfa/otp-codes.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { DeviceLinkEntity } from './device-link.entity.js';
import { deviceLinkCreatedMail } from './device-link-mails.js';
import type { DeviceLinkDto } from './dto/device-link.dto.js';
import type { PasskeyDto } from './dto/passkey.dto.js';
import type { CeremonyOptions } from './passkey-values.js';
import { PasskeysService } from './passkeys.service.js';

/** Unless the maker says otherwise (`expires_in`): long enough to fetch the other device. */
export const DEVICE_LINK_TTL_SECONDS = 3600;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const invalidDeviceLink = () =>
  new DomainError('invalid', 'invalid-token', 'The link is invalid, revoked or already used', {
    title: 'Invalid link',
    fields: [{ field: 'token', message: 'is invalid, revoked or already used' }],
  });

export const expiredDeviceLink = () =>
  new DomainError('invalid', 'token-expired', 'The link has expired: ask for a new one', {
    title: 'Link expired',
    fields: [{ field: 'token', message: 'has expired' }],
  });

function statusOf(row: DeviceLinkEntity, now = Date.now()): DeviceLinkDto['status'] {
  if (row.used_at) return 'used';
  if (row.revoked_at) return 'revoked';
  return row.expires_at.getTime() <= now ? 'expired' : 'open';
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toDeviceLinkDto(row: DeviceLinkEntity): DeviceLinkDto {
  return {
    link_id: row.link_id,
    user_id: row.user_id,
    status: statusOf(row),
    created_by_type: row.created_by_type,
    created_by_id: row.created_by_id,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    used_at: iso(row.used_at),
    revoked_at: iso(row.revoked_at),
    passkey_id: row.passkey_id,
  };
}

/** Whom an open link is for, as the link page shows it (never the full address). */
export interface DeviceLinkHolder {
  linkId: string;
  user: UserEntity;
  expiresAt: Date;
}

/** a***e@example.com: enough for the holder to recognise, too little to harvest. */
export function maskEmail(email: string | null): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at < 1) return null;
  const local = email.slice(0, at);
  const masked = local.length <= 2 ? `${local[0]}*` : `${local[0]}***${local[local.length - 1]}`;
  return `${masked}${email.slice(at)}`;
}

/**
 * Device-addition links (the seed's `create-link`): a signed-in user or an admin makes a
 * single-use, time-limited link; whoever opens it on another device registers a passkey for
 * that user, without a password. The token is 256 random bits shown once; only a keyed hash
 * (per-tenant key from the master key) is stored, and it is looked up within the tenant of the
 * request only, so a link of tenant A is nothing at tenant B. Spending is a conditional UPDATE
 * (two devices racing: one wins). Wrong tokens count per IP in the brute-force blocker. The
 * user is mailed when a link is made and when it is used; every step is audited.
 *
 * The WebAuthn ceremony is PasskeysService's (registrationOptions / verifyRegistration): the
 * challenge is bound to the link's user, so a challenge of another link cannot be used here.
 */
@Injectable()
export class DeviceLinksService {
  private readonly logger = new Logger('DeviceLinks');

  constructor(
    @InjectTenantRepository(DeviceLinkEntity)
    private readonly links: TenantRepository<DeviceLinkEntity>,
    private readonly passkeys: PasskeysService,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly mail: MailService,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private hash(tenantId: string, token: string): string {
    return keyedHash(
      deriveTenantKey(this.config.masterKey, { tenantId, purpose: 'device-links' }),
      token,
    );
  }

  /** Where a link lands: the hosted page that registers the passkey. */
  linkOf(tenantId: string, token: string): string {
    return `${this.config.publicUrl}/${tenantId}/device-link/${token}`;
  }

  private async sendMail(
    tenantId: string,
    to: string | null,
    tpl: ReturnType<typeof deviceLinkCreatedMail>,
  ) {
    if (!to || !this.mail.enabled) return false;
    try {
      await this.mail.send({ to, ...tpl });
      return true;
    } catch (err) {
      // The link works without the notice; the log says it was not sent.
      this.logger.warn({ err, tenantId }, 'device link notice mail failed');
      return false;
    }
  }

  /** A new link for the user (`ctx` names the maker: the user, or an admin's key). */
  async create(
    tenantId: string,
    userId: string,
    expiresInSeconds: number | undefined,
    ctx: AuditContext,
  ): Promise<{ link_id: string; url: string; expires_at: string }> {
    const settings = await this.tenants.settings(tenantId);
    if (!settings.passkey_enabled) throw forbidden('Passkeys are turned off for this tenant');
    const user = UUID.test(userId) ? await this.users.getEntity(tenantId, userId) : null;
    if (!user) throw notFound('User');
    if (user.is_disabled) throw forbidden('The user is disabled');
    const token = randomToken(32);
    const now = Date.now();
    const expiresAt = new Date(now + (expiresInSeconds ?? DEVICE_LINK_TTL_SECONDS) * 1000);
    const linkId = randomUUID();
    await this.links.insert(tenantId, {
      link_id: linkId,
      user_id: userId,
      token_hash: this.hash(tenantId, token),
      created_by_type: ctx.actorType ?? 'system',
      created_by_id: ctx.actorId ?? null,
      created_at: new Date(now),
      expires_at: expiresAt,
      used_at: null,
      revoked_at: null,
      passkey_id: null,
    });
    const byAdmin = !(ctx.actorType === 'user' && ctx.actorId === userId);
    const mailed = await this.sendMail(
      tenantId,
      user.email,
      deviceLinkCreatedMail(settings.display_name, { byAdmin, expiresAt }),
    );
    this.audit.recordForUser(tenantId, userId, 'device_link.created', ctx, 'device_link', {
      link_id: linkId,
      expires_at: expiresAt.toISOString(),
      mailed,
    });
    return {
      link_id: linkId,
      url: this.linkOf(tenantId, token),
      expires_at: expiresAt.toISOString(),
    };
  }

  async list(tenantId: string, userId: string, q: ListQuery): Promise<Page<DeviceLinkDto>> {
    if (!(await this.users.userExists(tenantId, userId))) throw notFound('User');
    const [rows, total] = await this.links.findAndCount(tenantId, {
      where: { user_id: userId },
      order: { created_at: q.sort_direction === 1 ? 'ASC' : 'DESC', link_id: 'ASC' },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toDeviceLinkDto), total, q);
  }

  /** Ends an open link at once; a link already used, expired or revoked stays as it is. */
  async revoke(tenantId: string, userId: string, linkId: string, ctx: AuditContext): Promise<void> {
    const row = UUID.test(linkId)
      ? await this.links.findOne(tenantId, { link_id: linkId, user_id: userId })
      : null;
    if (!row) throw notFound('Device link');
    const revoked = await this.links.update(
      tenantId,
      { link_id: linkId, used_at: IsNull(), revoked_at: IsNull() },
      { revoked_at: new Date() },
    );
    if (revoked === 1)
      this.audit.recordForUser(tenantId, userId, 'device_link.revoked', ctx, 'device_link', {
        link_id: linkId,
      });
  }

  /** An open link's row and user; a wrong token counts against the caller's IP. */
  async holder(tenantId: string, token: unknown, ctx?: AuditContext): Promise<DeviceLinkHolder> {
    if (ctx?.ip) {
      const check = await this.blocker.check(tenantId, { ip: ctx.ip });
      if (check.blocked) throw tooManyAttempts(check);
    }
    try {
      if (typeof token !== 'string' || !TOKEN.test(token)) throw invalidDeviceLink();
      const row = await this.links.findOne(tenantId, { token_hash: this.hash(tenantId, token) });
      if (!row || row.used_at || row.revoked_at) throw invalidDeviceLink();
      if (row.expires_at.getTime() <= Date.now()) throw expiredDeviceLink();
      const user = await this.users.getEntity(tenantId, row.user_id);
      if (!user || user.is_disabled) throw invalidDeviceLink();
      return { linkId: row.link_id, user, expiresAt: row.expires_at };
    } catch (err) {
      if (ctx?.ip && isDomainError(err) && err.code === 'invalid-token')
        await this.blocker.recordFailure(tenantId, { ip: ctx.ip, method: 'device_link' });
      throw err;
    }
  }

  /** Registration options for the link's user; the link stays open. */
  async options(
    tenantId: string,
    token: unknown,
    ctx?: AuditContext,
  ): Promise<CeremonyOptions<PublicKeyCredentialCreationOptionsJSON>> {
    const h = await this.holder(tenantId, token, ctx);
    return this.passkeys.registrationOptions(tenantId, h.user.user_id);
  }

  /**
   * Spends the link and registers the passkey. The claim comes first (a conditional UPDATE),
   * so two devices racing with one link add one passkey; a response that does not verify
   * gives the link back, so the holder can try again until it expires.
   */
  async register(
    tenantId: string,
    token: unknown,
    challengeId: string,
    response: RegistrationResponseJSON,
    ctx: AuditContext,
  ): Promise<PasskeyDto> {
    const h = await this.holder(tenantId, token, ctx);
    const claimed = await this.links.update(
      tenantId,
      {
        link_id: h.linkId,
        used_at: IsNull(),
        revoked_at: IsNull(),
        expires_at: Raw((c) => `${c} > now()`),
      },
      { used_at: new Date() },
    );
    if (claimed !== 1) throw invalidDeviceLink();
    const userId = h.user.user_id;
    let passkey: PasskeyDto;
    try {
      passkey = await this.passkeys.verifyRegistration(
        tenantId,
        userId,
        challengeId,
        response,
        `Passkey added by link ${new Date().toISOString().slice(0, 10)}`,
        { ...ctx, actorType: 'user', actorId: userId },
      );
    } catch (err) {
      await this.links.update(tenantId, { link_id: h.linkId }, { used_at: null });
      throw err;
    }
    await this.links.update(tenantId, { link_id: h.linkId }, { passkey_id: passkey.passkey_id });
    this.audit.recordForUser(
      tenantId,
      userId,
      'device_link.used',
      { ...ctx, actorType: 'user', actorId: userId },
      'device_link',
      { link_id: h.linkId, passkey_id: passkey.passkey_id },
    );
    // The user's mail about the use is the security notice of every new passkey
    // (credential_added, from verifyRegistration): one mail, not two.
    return passkey;
  }
}
