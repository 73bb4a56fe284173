import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { Raw } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { forbidden, notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UserEvents } from '../users/user-events.js';
import { UsersService } from '../users/users.service.js';
import type { PasskeyDto } from './dto/passkey.dto.js';
import { PasskeyCredentialEntity, WebauthnChallengeEntity } from './passkey.entities.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';
import {
  decoyCredentialId,
  describe,
  toPasskeyDto,
  webauthnFailed,
  type CeremonyOptions,
} from './passkey-values.js';
import { CHALLENGE_TTL_MS, WebauthnChallenges } from './webauthn-challenges.js';
import { isDomainError } from '../common/domain-error.js';

/** 1023 bytes in base64url. */
const MAX_CREDENTIAL_ID_CHARS = 1364;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
/** A user id no user has: a challenge for a username that does not exist matches no credential. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/**
 * WebAuthn passkeys with @simplewebauthn/server. The relying party is PUBLIC_URL (RP ID its
 * host name, origin its origin) and shared by every tenant, so a credential is only ever looked
 * up within the tenant of the request. User verification is required: a passkey signs the user
 * in on its own, without a password.
 */
@Injectable()
export class PasskeysService {
  constructor(
    @InjectTenantRepository(PasskeyCredentialEntity)
    private readonly credentials: TenantRepository<PasskeyCredentialEntity>,
    private readonly challenges: WebauthnChallenges,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly blocker: BlockerService,
    private readonly userEvents: UserEvents,
  ) {}

  /** Read per call: PUBLIC_URL is fixed in production, but tests learn their port after start. */
  private rp() {
    const url = new URL(this.config.publicUrl);
    return { rpID: url.hostname, origin: url.origin };
  }

  /** The passkey events: the user is actor and subject unless ctx names another actor. */
  private record(
    tenantId: string,
    userId: string,
    type: string,
    ctx: AuditContext | undefined,
    details: Record<string, unknown>,
  ) {
    this.audit.recordForUser(tenantId, userId, type, ctx, 'passkey', details);
  }

  private async assertEnabled(tenantId: string) {
    const settings = await this.tenants.settings(tenantId);
    if (!settings.passkey_enabled) throw forbidden('Passkeys are turned off for this tenant');
    return settings;
  }

  // ---- registration (a signed-in user adds a passkey)

  async registrationOptions(
    tenantId: string,
    userId: string,
  ): Promise<CeremonyOptions<PublicKeyCredentialCreationOptionsJSON>> {
    const { display_name } = await this.assertEnabled(tenantId);
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    const existing = await this.credentials.find(tenantId, { where: { user_id: userId } });
    const options = await generateRegistrationOptions({
      rpName: display_name,
      rpID: this.rp().rpID,
      userName: user.username,
      userDisplayName: user.display_name ?? user.username,
      userID: new TextEncoder().encode(userId),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
      // Discoverable, so the user can sign in without typing a username.
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    const challenge_id = await this.challenges.issue(
      tenantId,
      options.challenge,
      'registration',
      userId,
    );
    return { challenge_id, options };
  }

  async verifyRegistration(
    tenantId: string,
    userId: string,
    challengeId: string,
    response: RegistrationResponseJSON,
    name?: string,
    ctx?: AuditContext,
  ): Promise<PasskeyDto> {
    await this.assertEnabled(tenantId);
    const challenge = await this.challenges.claim(tenantId, challengeId, 'registration');
    if (challenge.user_id !== userId)
      throw webauthnFailed('The challenge is unknown, expired or already used');
    const { rpID, origin } = this.rp();
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: true,
      });
    } catch (err) {
      throw webauthnFailed(describe(err));
    }
    if (!verification.verified) throw webauthnFailed('The attestation did not verify');
    const info = verification.registrationInfo;
    if (response.id !== info.credential.id)
      throw webauthnFailed('The credential id does not match the attested credential');
    // WebAuthn caps credential ids at 1023 bytes; longer ones would not fit the index either.
    if (Buffer.from(info.credential.id, 'base64url').length > 1023)
      throw webauthnFailed('The credential id is longer than 1023 bytes');
    const transports = (response.response?.transports ?? []).filter(
      (t): t is string => typeof t === 'string' && TRANSPORTS.has(t),
    );
    const now = new Date();
    const row = await this.credentials.insert(tenantId, {
      passkey_id: randomUUID(),
      credential_id: info.credential.id,
      user_id: userId,
      public_key: Buffer.from(info.credential.publicKey),
      counter: String(info.credential.counter),
      transports,
      backed_up: info.credentialBackedUp,
      device_type: info.credentialDeviceType,
      aaguid: info.aaguid,
      name: name?.trim() || 'Passkey',
      created_at: now,
      last_used_at: null,
    });
    this.record(tenantId, userId, 'passkey.registered', ctx, {
      passkey_id: row.passkey_id,
      name: row.name,
    });
    await this.userEvents.emit({
      type: 'credential_added',
      tenantId,
      userId,
      credential: { kind: 'passkey', name: row.name },
    });
    return toPasskeyDto(row);
  }

  // ---- authentication (the hosted login)

  /**
   * Options for a sign-in. Without a username: discoverable credentials, any user of the
   * tenant. With one: that user's passkeys; an unknown user (or one without passkeys) gets a
   * made-up but stable credential id, so the answer does not tell whether the user exists.
   */
  async authenticationOptions(
    tenantId: string,
    username?: string,
  ): Promise<CeremonyOptions<PublicKeyCredentialRequestOptionsJSON>> {
    await this.assertEnabled(tenantId);
    let userId: string | null = null;
    let allowCredentials: Array<{ id: string; transports?: string[] }> | undefined;
    if (username !== undefined) {
      const user = await this.users.findForLogin(tenantId, username);
      const creds =
        user && !user.is_disabled
          ? await this.credentials.find(tenantId, { where: { user_id: user.user_id } })
          : [];
      if (user && creds.length) {
        userId = user.user_id;
        allowCredentials = creds.map((c) => ({ id: c.credential_id, transports: c.transports }));
      } else {
        userId = NOBODY;
        allowCredentials = [
          {
            id: decoyCredentialId(this.config.masterKey, tenantId, username),
            transports: ['internal', 'hybrid'],
          },
        ];
      }
    }
    const options = await generateAuthenticationOptions({
      rpID: this.rp().rpID,
      allowCredentials,
      userVerification: 'required',
      timeout: CHALLENGE_TTL_MS,
    });
    const challenge_id = await this.challenges.issue(
      tenantId,
      options.challenge,
      'authentication',
      userId,
    );
    return { challenge_id, options };
  }

  /**
   * Verifies an assertion against a challenge of this tenant; answers the user it signs in.
   * Refuses: an unknown, expired or spent challenge; a credential of another tenant or user;
   * a bad signature; a sign counter that did not move forward (a cloned authenticator).
   *
   * With the request's `ctx` (the hosted login passes it) the check goes through the
   * brute-force blocker: a blocked IP, or the blocked user the challenge was made for, gets
   * 429 before any signature is checked; a failed assertion counts per IP and per that user
   * (method passkey); a success forgives the user's failures and is logged as passkey.used.
   */
  async verifyAuthentication(
    tenantId: string,
    challengeId: string,
    response: AuthenticationResponseJSON,
    ctx?: AuditContext,
  ): Promise<string> {
    await this.assertEnabled(tenantId);
    if (ctx) {
      const check = await this.blocker.check(tenantId, { ip: ctx.ip });
      if (check.blocked) throw tooManyAttempts(check);
    }
    const challenge = await this.challenges.claim(tenantId, challengeId, 'authentication');
    const intended =
      challenge.user_id && challenge.user_id !== NOBODY
        ? await this.users.getEntity(tenantId, challenge.user_id)
        : null;
    if (ctx && intended) {
      const check = await this.blocker.check(tenantId, { username: intended.username });
      if (check.blocked) throw tooManyAttempts(check);
    }
    let user: UserEntity;
    let passkeyId: string;
    try {
      ({ user, passkeyId } = await this.verifyAssertion(tenantId, challenge, response));
    } catch (err) {
      if (ctx && isDomainError(err) && err.code === 'webauthn-failed') {
        await this.blocker.recordFailure(tenantId, {
          ip: ctx.ip,
          username: intended?.username,
          method: 'passkey',
        });
      }
      throw err;
    }
    if (ctx) await this.blocker.recordSuccess(tenantId, { username: user.username });
    this.record(tenantId, user.user_id, 'passkey.used', ctx, { passkey_id: passkeyId });
    return user.user_id;
  }

  private async verifyAssertion(
    tenantId: string,
    challenge: WebauthnChallengeEntity,
    response: AuthenticationResponseJSON,
  ): Promise<{ user: UserEntity; passkeyId: string }> {
    const credentialId = typeof response?.id === 'string' ? response.id : '';
    const cred =
      credentialId && credentialId.length <= MAX_CREDENTIAL_ID_CHARS
        ? await this.credentials.findOne(tenantId, { credential_id: credentialId })
        : null;
    if (!cred || (challenge.user_id !== null && challenge.user_id !== cred.user_id))
      throw webauthnFailed('This passkey is not registered here');
    const { rpID, origin } = this.rp();
    let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: {
          id: cred.credential_id,
          publicKey: new Uint8Array(cred.public_key),
          counter: Number(cred.counter),
          transports: cred.transports,
        },
        requireUserVerification: true,
      });
    } catch (err) {
      throw webauthnFailed(describe(err));
    }
    if (!verification.verified) throw webauthnFailed('The signature did not verify');
    const info = verification.authenticationInfo;
    // Authenticators that keep no counter send 0 every time; the others must move forward,
    // and only one of two concurrent assertions with the same counter may pass.
    const moved = await this.credentials.update(
      tenantId,
      {
        passkey_id: cred.passkey_id,
        ...(info.newCounter > 0
          ? { counter: Raw((col) => `${col} < :next`, { next: info.newCounter }) }
          : {}),
      },
      {
        counter: String(info.newCounter),
        backed_up: info.credentialBackedUp,
        device_type: info.credentialDeviceType,
        last_used_at: new Date(),
      },
    );
    if (moved !== 1) throw webauthnFailed('The sign counter did not increase');
    const user = await this.users.getEntity(tenantId, cred.user_id);
    if (!user || user.is_disabled) throw webauthnFailed('This passkey is not registered here');
    return { user, passkeyId: cred.passkey_id };
  }

  // ---- management

  async list(tenantId: string, userId: string, q: ListQuery): Promise<Page<PasskeyDto>> {
    if (!(await this.users.userExists(tenantId, userId))) throw notFound('User');
    const [rows, total] = await this.credentials.findAndCount(tenantId, {
      where: { user_id: userId },
      order: { created_at: q.sort_direction === -1 ? 'DESC' : 'ASC', passkey_id: 'ASC' },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toPasskeyDto), total, q);
  }

  private async load(tenantId: string, userId: string, passkeyId: string) {
    const row = UUID.test(passkeyId)
      ? await this.credentials.findOne(tenantId, { passkey_id: passkeyId, user_id: userId })
      : null;
    if (!row) throw notFound('Passkey');
    return row;
  }

  async rename(
    tenantId: string,
    userId: string,
    passkeyId: string,
    name: string,
    ctx?: AuditContext,
  ): Promise<PasskeyDto> {
    const row = await this.load(tenantId, userId, passkeyId);
    const previous = row.name;
    row.name = name.trim();
    await this.credentials.update(tenantId, { passkey_id: row.passkey_id }, { name: row.name });
    this.record(tenantId, userId, 'passkey.renamed', ctx, {
      passkey_id: row.passkey_id,
      name: row.name,
      previous_name: previous,
    });
    return toPasskeyDto(row);
  }

  /**
   * Without ctx (the admin route) the admin audit interceptor records the removal as
   * admin.user.passkeys.delete; with it (self-service) this records passkey.deleted.
   */
  async remove(
    tenantId: string,
    userId: string,
    passkeyId: string,
    ctx?: AuditContext,
  ): Promise<void> {
    const row = await this.load(tenantId, userId, passkeyId);
    await this.credentials.delete(tenantId, { passkey_id: row.passkey_id });
    if (ctx)
      this.record(tenantId, userId, 'passkey.deleted', ctx, {
        passkey_id: row.passkey_id,
        name: row.name,
      });
  }

  /** Whether the user can sign in with a passkey. */
  async hasPasskey(tenantId: string, userId: string): Promise<boolean> {
    return (await this.credentials.count(tenantId, { user_id: userId })) > 0;
  }
}
