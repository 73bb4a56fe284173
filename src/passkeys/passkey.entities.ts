import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'passkey_credentials' })
export class PasskeyCredentialEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  /** The API's id for the passkey (credential ids can be long and are not ours to shape). */
  @PrimaryColumn({ type: 'uuid' })
  passkey_id: string;

  /** base64url credential id, as the authenticator sent it. */
  @Column({ type: 'text' })
  credential_id: string;

  @Column({ type: 'uuid' })
  user_id: string;

  /** COSE public key. */
  @Column({ type: 'bytea' })
  public_key: Buffer;

  @Column({ type: 'bigint', default: 0 })
  counter: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  transports: string[];

  @Column({ type: 'boolean', default: false })
  backed_up: boolean;

  /** 'singleDevice' or 'multiDevice' (synced). */
  @Column({ type: 'text' })
  device_type: string;

  @Column({ type: 'text', nullable: true })
  aaguid: string | null;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;
}

export type ChallengePurpose = 'registration' | 'authentication';

/** A WebAuthn challenge, good once and for five minutes. */
@Entity({ name: 'webauthn_challenges' })
export class WebauthnChallengeEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  challenge_id: string;

  @Column({ type: 'text' })
  challenge: string;

  /** The user the ceremony is for; null for a discoverable sign-in (no username typed). */
  @Column({ type: 'uuid', nullable: true })
  user_id: string | null;

  @Column({ type: 'text' })
  purpose: ChallengePurpose;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  consumed_at: Date | null;
}
