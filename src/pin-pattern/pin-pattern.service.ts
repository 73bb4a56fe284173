import { Injectable } from '@nestjs/common';
import { constantTimeEqual, sha256Hex } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { DomainError } from '../common/domain-error.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { LoginFactor } from '../tenants/tenant-settings.js';
import { UsersService } from '../users/users.service.js';
import { TotpService } from '../mfa/totp.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { opaque, OpaqueServer } from './opaque-server.js';
import { AUX_PROOF_TTL_MS, PinPatternTickets } from './pin-pattern-tickets.js';
import { PinPatternCredentialEntity } from './pin-pattern.entities.js';
import { policyOf, PROTO_VERSION, type PinPatternPolicy } from './pin-pattern-policy.js';

export const METHOD = 'pin-pattern';

/** The amr values a PIN/pattern sign-in reports: RFC 8176 `pin`, and `pattern` (not registered). */
export function amrOf(factors: string[]): string[] {
  return factors.map((f) => (f === 'PIN' ? 'pin' : 'pattern'));
}

const wrong = () =>
  new DomainError('unauthenticated', 'invalid-credentials', 'The PIN or pattern is incorrect', {
    title: 'Sign-in failed',
  });
/** The problem of a sensitive change without a fresh PIN/pattern proof. */
export const proofRequired = () =>
  new DomainError(
    'forbidden',
    'pin-pattern-proof-required',
    `Prove your PIN/pattern first: aux-challenge, then aux-authenticate, at most ${AUX_PROOF_TTL_MS / 60_000} minutes before this change`,
    { title: 'PIN/pattern proof required' },
  );
const disabled = () =>
  new DomainError('forbidden', 'account-disabled', 'This account is disabled', {
    title: 'Account disabled',
  });
const invalid = (field: string, message: string) =>
  new DomainError('invalid', 'validation-error', message, {
    title: 'Invalid request',
    fields: [{ field, message }],
  });

/** Who is asking: the caller's address (the blocker's IP dimension) and user agent (audit). */
export interface Caller {
  ip: string | null;
  userAgent: string | null;
}

export interface ChallengeAnswer {
  challenge_id: string;
  challenge_data: string;
  proto_version: string;
}

export interface Authenticated {
  nonce: string;
  need_verify: boolean;
}

/**
 * PIN and pattern sign-in with OPAQUE (RFC 9807): the user's client turns the PIN and pattern
 * into one OPAQUE password and the server never sees it, nor anything that can test a guess
 * without the tenant's sealed OPRF seed. Every login challenge counts as a failed attempt in
 * the blocker until it is finished, because the client learns whether its guess was right
 * before it answers (docs/decisions/0021-pin-pattern-opaque.md).
 */
@Injectable()
export class PinPatternService {
  constructor(
    @InjectTenantRepository(PinPatternCredentialEntity)
    private readonly credentials: TenantRepository<PinPatternCredentialEntity>,
    private readonly server: OpaqueServer,
    private readonly tickets: PinPatternTickets,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
    private readonly blocker: BlockerService,
    private readonly audit: AuditService,
    private readonly totp: TotpService,
  ) {}

  /** The tenant's policy; refused when the tenant uses neither a PIN nor a pattern. */
  async policy(tenantId: string): Promise<PinPatternPolicy> {
    const policy = policyOf(await this.tenants.settings(tenantId));
    if (!policy)
      throw new DomainError(
        'forbidden',
        'pin-pattern-disabled',
        'PIN and pattern sign-in is not enabled for this tenant',
        { title: 'Not enabled' },
      );
    return policy;
  }

  /** The OPAQUE credential identifier of a user: the username, lowercased, at enrolment. */
  private identifierOf(user: Pick<UserEntity, 'username'>) {
    return user.username.toLowerCase();
  }

  // ---- registration: sign-up (public, where the tenant allows it) and a signed-in user's change

  /** Step one of registration for a new account (`username`) or a signed-in user (`userId`). */
  async registerStart(
    tenantId: string,
    who: { username: string } | { userId: string },
    registrationRequest: string,
  ): Promise<{ registration_response: string }> {
    await this.policy(tenantId);
    let identifier: string;
    if ('userId' in who)
      identifier = this.identifierOf(await this.signedInUser(tenantId, who.userId));
    else {
      await this.requireSignup(tenantId);
      identifier = who.username.toLowerCase();
    }
    const serverSetup = await this.server.setup(tenantId);
    try {
      const { registrationResponse } = opaque.server.createRegistrationResponse({
        serverSetup,
        userIdentifier: identifier,
        registrationRequest,
      });
      return { registration_response: registrationResponse };
    } catch {
      throw invalid('registration_request', 'not an OPAQUE registration request');
    }
  }

  /** Step two for a new account: creates the user with the uploaded registration record. */
  async registerNewUser(
    tenantId: string,
    dto: { username: string; email: string; record: string; protoVersion: string },
    ctx: AuditContext,
  ): Promise<{ user_id: string; username: string }> {
    const policy = await this.policy(tenantId);
    await this.requireSignup(tenantId);
    this.checkUpload(dto.record, dto.protoVersion);
    const user = await this.users.create(tenantId, { username: dto.username, email: dto.email });
    try {
      await this.store(tenantId, user.user_id, dto.username.toLowerCase(), dto.record, policy);
    } catch (err) {
      await this.users.remove(tenantId, user.user_id);
      throw err;
    }
    this.audit.recordForUser(tenantId, user.user_id, 'user.signup', ctx, METHOD, {
      factors: policy.factors,
    });
    return { user_id: user.user_id, username: user.username };
  }

  /** Step two for a signed-in user: sets or replaces the PIN/pattern. */
  async setForUser(
    tenantId: string,
    userId: string,
    dto: { record: string; protoVersion: string },
    ctx: AuditContext,
  ): Promise<{ factors: LoginFactor[] }> {
    const policy = await this.policy(tenantId);
    this.checkUpload(dto.record, dto.protoVersion);
    const user = await this.signedInUser(tenantId, userId);
    await this.store(tenantId, userId, this.identifierOf(user), dto.record, policy);
    this.audit.recordForUser(tenantId, userId, 'pin_pattern.set', ctx, METHOD, {
      factors: policy.factors,
    });
    return { factors: policy.factors };
  }

  /** Whether the user has a PIN/pattern, and of which factors. */
  async status(tenantId: string, userId: string) {
    const row = await this.credentials.findOne(tenantId, { user_id: userId });
    return {
      enrolled: Boolean(row),
      factors: (row?.factors ?? []) as LoginFactor[],
      updated_at: row?.updated_at.toISOString() ?? null,
    };
  }

  /** An admin's reset: the credential is gone; the user enrols again after signing in otherwise. */
  async remove(tenantId: string, userId: string, ctx: AuditContext): Promise<void> {
    const removed = await this.credentials.delete(tenantId, { user_id: userId });
    if (!removed)
      throw new DomainError('not-found', 'not-found', 'The user has no PIN or pattern', {
        title: 'Not found',
      });
    this.audit.recordForUser(tenantId, userId, 'pin_pattern.removed', ctx, METHOD);
  }

  private async requireSignup(tenantId: string) {
    if (!(await this.tenants.settings(tenantId)).register_enable)
      throw new DomainError('forbidden', 'signup-disabled', 'This tenant does not allow sign-up', {
        title: 'Sign-up disabled',
      });
  }

  private async signedInUser(tenantId: string, userId: string): Promise<UserEntity> {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user)
      throw new DomainError('not-found', 'not-found', 'User not found', { title: 'Not found' });
    return user;
  }

  private checkUpload(record: string, protoVersion: string) {
    if (protoVersion !== PROTO_VERSION)
      throw invalid('proto_version', `only ${PROTO_VERSION} is supported`);
    // serenity-kit records are 192 bytes (256 base64url characters).
    if (!/^[A-Za-z0-9_-]{200,400}$/.test(record))
      throw invalid('encrypted_commitment', 'not an OPAQUE registration record');
  }

  private async store(
    tenantId: string,
    userId: string,
    identifier: string,
    record: string,
    policy: PinPatternPolicy,
  ) {
    const now = new Date();
    await this.credentials.save(
      tenantId,
      this.credentials.create(tenantId, {
        user_id: userId,
        credential_identifier: identifier,
        registration_record: record,
        factors: policy.factors,
        proto_version: PROTO_VERSION,
        created_at: now,
        updated_at: now,
        last_used_at: null,
      }),
    );
  }

  // ---- sign-in: challenge, then authenticate, then a nonce the sign-in spends

  /**
   * The credential response for `login`. Unknown users, users without a PIN and accounts that
   * are blocked get a response from OPAQUE's fake-record path: it looks the same and can never
   * be finished. The attempt is counted now (see the class comment).
   */
  async challenge(
    tenantId: string,
    login: string,
    cipherKey: string,
    authReqId: string | null,
    caller: Caller,
  ): Promise<ChallengeAnswer> {
    await this.policy(tenantId);
    const typed = login.trim().toLowerCase();
    const check = await this.blocker.check(tenantId, { ip: caller.ip, username: typed });
    if (check.blocked) throw tooManyAttempts(check);
    const user = await this.users.findForLogin(tenantId, typed);
    const row = user ? await this.credentials.findOne(tenantId, { user_id: user.user_id }) : null;
    const accountBlocked = user
      ? (await this.blocker.check(tenantId, { accountId: user.user_id })).blocked
      : false;
    // Counted before it is answered, and refused when this very attempt reaches the limit: the
    // answer alone tells the client whether its guess was right, so of a burst of concurrent
    // challenges at most max_attempts − 1 are ever answered.
    const counted = await this.blocker.recordFailure(tenantId, {
      ip: caller.ip,
      username: typed,
      accountId: user?.user_id,
      method: METHOD,
    });
    if (counted.blocked) throw tooManyAttempts(counted);
    const usable = row && !accountBlocked ? row : null;
    let started: { serverLoginState: string; loginResponse: string };
    try {
      started = opaque.server.startLogin({
        serverSetup: await this.server.setup(tenantId),
        registrationRecord: usable?.registration_record ?? null,
        startLoginRequest: cipherKey,
        userIdentifier: row?.credential_identifier ?? typed,
      });
    } catch {
      throw invalid('cipherKey', 'not an OPAQUE credential request');
    }
    const challengeId = await this.tickets.issueChallenge(
      tenantId,
      { userId: usable ? usable.user_id : null, login: typed, authReqId },
      { serverLoginState: started.serverLoginState, requestHash: sha256Hex(cipherKey) },
    );
    return {
      challenge_id: challengeId,
      challenge_data: started.loginResponse,
      proto_version: PROTO_VERSION,
    };
  }

  /**
   * Checks the client's finalisation of a challenge. Right: the account's failures are
   * forgiven and a single-use nonce, bound to this tenant, user and `authReqId`, is issued.
   */
  async authenticate(
    tenantId: string,
    input: { login: string; cipherKey: string; challengeId: string; finalization: string },
    authReqId: string | null,
    caller: Caller,
  ): Promise<Authenticated> {
    const typed = input.login.trim().toLowerCase();
    const { user, row, needVerify } = await this.verify(tenantId, input, typed, authReqId, caller);
    const nonce = await this.tickets.issueNonce(
      tenantId,
      { login: typed, authReqId },
      { userId: user.user_id, amr: amrOf(row.factors), needVerify },
    );
    return { nonce, need_verify: needVerify };
  }

  /** A signed-in user proves the PIN/pattern again (before a sensitive change): step one. */
  async auxChallenge(tenantId: string, userId: string, cipherKey: string, caller: Caller) {
    const user = await this.signedInUser(tenantId, userId);
    return this.challenge(tenantId, user.username, cipherKey, `aux:${userId}`, caller);
  }

  /** Step two: the finalisation of that challenge, for that user only. */
  async auxVerify(
    tenantId: string,
    userId: string,
    input: { challengeId: string; finalization: string },
    caller: Caller,
  ): Promise<{ verified: true }> {
    const user = await this.signedInUser(tenantId, userId);
    const typed = user.username.toLowerCase();
    const proved = await this.verify(tenantId, input, typed, `aux:${userId}`, caller);
    if (proved.user.user_id !== userId) throw wrong();
    // The proof a sensitive change (requireFreshProof) spends within AUX_PROOF_TTL_MS.
    await this.tickets.issueAuxProof(tenantId, userId);
    this.audit.recordForUser(tenantId, userId, 'pin_pattern.verified', caller, METHOD);
    return { verified: true };
  }

  /** Whether a sensitive change of this user needs a fresh PIN/pattern proof first. */
  async proofNeeded(tenantId: string, userId: string): Promise<boolean> {
    if (!policyOf(await this.tenants.settings(tenantId))) return false;
    return Boolean(await this.credentials.findOne(tenantId, { user_id: userId }));
  }

  /**
   * Before a sensitive change (an email change): a user who has a PIN/pattern must have proved
   * it (aux-challenge, aux-authenticate) within the last minutes. The proof is spent here.
   */
  async requireFreshProof(tenantId: string, userId: string): Promise<void> {
    if (!(await this.proofNeeded(tenantId, userId))) return;
    if (await this.tickets.claimAuxProof(tenantId, userId)) return;
    throw proofRequired();
  }

  private async verify(
    tenantId: string,
    input: { cipherKey?: string; challengeId: string; finalization: string },
    typed: string,
    authReqId: string | null,
    caller: Caller,
  ): Promise<{ user: UserEntity; row: PinPatternCredentialEntity; needVerify: boolean }> {
    const settings = await this.tenants.settings(tenantId);
    const ticket = await this.tickets.claimChallenge(tenantId, input.challengeId);
    const fail = (userId?: string | null) => {
      this.audit.record({
        tenantId,
        type: 'login.failure',
        method: METHOD,
        ip: caller.ip,
        userAgent: caller.userAgent,
        subjectType: 'user',
        subjectId: userId ?? null,
        details: { reason: 'invalid_credentials', auth_req_id: authReqId },
      });
      return wrong();
    };
    if (
      !ticket ||
      ticket.login !== typed ||
      ticket.authReqId !== authReqId ||
      (input.cipherKey !== undefined &&
        !constantTimeEqual(ticket.payload.requestHash, sha256Hex(input.cipherKey)))
    )
      throw fail(ticket?.userId);
    try {
      opaque.server.finishLogin({
        serverLoginState: ticket.payload.serverLoginState,
        finishLoginRequest: input.finalization,
      });
    } catch {
      throw fail(ticket.userId);
    }
    // Only a real record can be finished; the check is for the type checker and for safety.
    if (!ticket.userId) throw fail();
    const [user, row] = await Promise.all([
      this.users.getEntity(tenantId, ticket.userId),
      this.credentials.findOne(tenantId, { user_id: ticket.userId }),
    ]);
    if (!user || !row) throw fail(ticket.userId);
    if (user.is_disabled) throw disabled();
    await this.blocker.recordSuccess(tenantId, { username: typed, accountId: user.user_id });
    await this.credentials.update(
      tenantId,
      { user_id: user.user_id },
      { last_used_at: new Date() },
    );
    // The hosted sign-in asks for the user's TOTP, or its enrolment where the tenant requires a
    // second factor (a PIN and a pattern are both things the user knows: one factor).
    const needVerify = settings.is_2fa || (await this.totp.hasSecondFactor(tenantId, user.user_id));
    return { user, row, needVerify };
  }

  /**
   * Spends a sign-in nonce for the authorisation `authReqId`: the user and amr it proves, or
   * undefined (unknown, spent, expired, another tenant's or another authorisation's).
   */
  async redeemNonce(
    tenantId: string,
    nonce: unknown,
    authReqId: string,
  ): Promise<{ userId: string; amr: string[] } | undefined> {
    const ticket = await this.tickets.claimNonce(tenantId, nonce);
    if (!ticket || !ticket.authReqId || ticket.authReqId !== authReqId || !ticket.userId)
      return undefined;
    return { userId: ticket.userId, amr: ticket.payload.amr };
  }
}
