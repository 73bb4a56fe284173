import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A user's PIN/pattern credential: the OPAQUE registration record the user's client made. It
 * holds the client's public key and an envelope sealed under a key only the PIN/pattern and
 * the tenant's OPRF key (in the sealed server setup) can rebuild, so the row alone cannot
 * check a guess (docs/decisions/0021-pin-pattern-opaque.md).
 */
@Entity({ name: 'pin_pattern_credentials' })
export class PinPatternCredentialEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  user_id: string;

  /** The OPAQUE credential identifier the record was made for (the username at the time). */
  @Column({ type: 'text' })
  credential_identifier: string;

  @Column({ type: 'text' })
  registration_record: string;

  /** The factors (in order) the secret was made of, so a policy change can ask to re-enrol. */
  @Column({ type: 'text', array: true })
  factors: string[];

  @Column({ type: 'text' })
  proto_version: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;
}

/** The tenant's OPAQUE server setup (OPRF seed and server key pair), sealed with the master key. */
@Entity({ name: 'pin_pattern_server_setups' })
export class PinPatternServerSetupEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  setup_sealed: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}

export type PinPatternTicketKind = 'challenge' | 'nonce' | 'aux_proof';

/**
 * The short-lived state between two calls: a login challenge (the server's OPAQUE state,
 * sealed), a sign-in nonce (found by its hash) or a signed-in user's fresh proof (aux_proof,
 * which a sensitive change such as an email change spends). Each is spent once: the
 * DELETE … RETURNING that reads it is the claim.
 */
@Entity({ name: 'pin_pattern_tickets' })
export class PinPatternTicketEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  /** A challenge's uuid, or the SHA-256 of a nonce (the nonce itself is never stored). */
  @PrimaryColumn({ type: 'text' })
  ticket_id: string;

  @Column({ type: 'text' })
  kind: PinPatternTicketKind;

  /** null for a challenge of an unknown username (the fake-record path). */
  @Column({ type: 'uuid', nullable: true })
  user_id: string | null;

  /** The login as typed (challenge), lowercased. */
  @Column({ type: 'text' })
  login: string;

  /** The pending authorisation (interaction uid) a nonce may finish; null: none. */
  @Column({ type: 'text', nullable: true })
  auth_req_id: string | null;

  /** Challenge: the sealed OPAQUE server login state and request hash; nonce: the amr. */
  @Column({ type: 'text' })
  payload_sealed: string;

  @Column({ type: 'timestamptz' })
  expires_at: Date;
}
