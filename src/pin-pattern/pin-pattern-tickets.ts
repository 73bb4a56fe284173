import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LessThan, Raw } from 'typeorm';
import { randomToken, SecretBox, sha256Hex } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UUID_PATTERN } from '../common/ids.js';
import { PinPatternTicketEntity, type PinPatternTicketKind } from './pin-pattern.entities.js';

/** From challenge to finalisation, and from a proven PIN to the sign-in it finishes. */
export const CHALLENGE_TTL_MS = 2 * 60_000;
export const NONCE_TTL_MS = 2 * 60_000;
/** How long a signed-in user's PIN/pattern proof (aux-challenge) allows a sensitive change. */
export const AUX_PROOF_TTL_MS = 5 * 60_000;

export interface ChallengeState {
  /** The server's OPAQUE login state (secret: with it the finalisation is checked). */
  serverLoginState: string;
  /** The SHA-256 of the credential request (`cipherKey`) it answered. */
  requestHash: string;
}

export interface NonceGrant {
  userId: string;
  amr: string[];
  /** Whether the tenant's policy still asks for a step after this one. */
  needVerify: boolean;
}

export interface ClaimedTicket<T> {
  userId: string | null;
  login: string;
  authReqId: string | null;
  payload: T;
}

/**
 * Single-use, short-lived state of the PIN/pattern exchanges, in the database so any replica
 * can take the second call. Payloads are sealed with the master key bound to the tenant, kind
 * and id; a nonce is stored only as its hash. Claiming deletes the row (DELETE … RETURNING), so
 * of two requests presenting one ticket exactly one gets it.
 */
@Injectable()
export class PinPatternTickets {
  private readonly box: SecretBox;
  private issued = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectTenantRepository(PinPatternTicketEntity)
    private readonly tickets: TenantRepository<PinPatternTicketEntity>,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  private aad(tenantId: string, kind: PinPatternTicketKind, id: string) {
    return `pin-pattern-${kind}:${tenantId}:${id}`;
  }

  private async issue(
    tenantId: string,
    kind: PinPatternTicketKind,
    id: string,
    row: { userId: string | null; login: string; authReqId: string | null },
    payload: unknown,
    ttlMs: number,
  ) {
    await this.tickets.insert(tenantId, {
      ticket_id: id,
      kind,
      user_id: row.userId,
      login: row.login,
      auth_req_id: row.authReqId,
      payload_sealed: this.box.seal(JSON.stringify(payload), this.aad(tenantId, kind, id)),
      expires_at: new Date(Date.now() + ttlMs),
    });
    // Spent or abandoned tickets are useless: sweep the tenant's now and then, no job needed.
    this.issued += 1;
    if (this.issued % 50 === 0)
      await this.tickets.delete(tenantId, { expires_at: LessThan(new Date(Date.now() - 60_000)) });
  }

  private async claim<T>(
    tenantId: string,
    kind: PinPatternTicketKind,
    id: string,
  ): Promise<ClaimedTicket<T> | undefined> {
    const [row] = await this.tickets.deleteReturning(
      tenantId,
      { ticket_id: id, kind, expires_at: Raw((col) => `${col} > now()`) },
      ['user_id', 'login', 'auth_req_id', 'payload_sealed'],
    );
    if (!row?.payload_sealed) return undefined;
    return {
      userId: row.user_id ?? null,
      login: row.login ?? '',
      authReqId: row.auth_req_id ?? null,
      payload: JSON.parse(
        this.box.openString(row.payload_sealed, this.aad(tenantId, kind, id)),
      ) as T,
    };
  }

  async issueChallenge(
    tenantId: string,
    row: { userId: string | null; login: string; authReqId: string | null },
    state: ChallengeState,
  ): Promise<string> {
    const id = randomUUID();
    await this.issue(tenantId, 'challenge', id, row, state, CHALLENGE_TTL_MS);
    return id;
  }

  claimChallenge(tenantId: string, id: unknown) {
    if (typeof id !== 'string' || !UUID_PATTERN.test(id)) return Promise.resolve(undefined);
    return this.claim<ChallengeState>(tenantId, 'challenge', id);
  }

  /** A sign-in nonce for `grant`, bound to the tenant, the user and the authorisation. */
  async issueNonce(
    tenantId: string,
    row: { login: string; authReqId: string | null },
    grant: NonceGrant,
  ): Promise<string> {
    const nonce = randomToken(32);
    await this.issue(
      tenantId,
      'nonce',
      sha256Hex(nonce),
      { ...row, userId: grant.userId },
      grant,
      NONCE_TTL_MS,
    );
    return nonce;
  }

  /** Spends a nonce; undefined when it is unknown, spent, expired or of another tenant. */
  claimNonce(tenantId: string, nonce: unknown) {
    if (typeof nonce !== 'string' || nonce.length < 20 || nonce.length > 100)
      return Promise.resolve(undefined);
    return this.claim<NonceGrant>(tenantId, 'nonce', sha256Hex(nonce));
  }

  /** A signed-in user proved the PIN/pattern just now: one sensitive change may follow. */
  async issueAuxProof(tenantId: string, userId: string): Promise<Date> {
    const id = randomUUID();
    await this.issue(
      tenantId,
      'aux_proof',
      id,
      { userId, login: '', authReqId: null },
      { userId },
      AUX_PROOF_TTL_MS,
    );
    return new Date(Date.now() + AUX_PROOF_TTL_MS);
  }

  /** Spends the user's live proofs; true when there was one (of this tenant, this user). */
  async claimAuxProof(tenantId: string, userId: string): Promise<boolean> {
    const rows = await this.tickets.deleteReturning(
      tenantId,
      { user_id: userId, kind: 'aux_proof', expires_at: Raw((col) => `${col} > now()`) },
      ['ticket_id'],
    );
    return rows.length > 0;
  }
}
