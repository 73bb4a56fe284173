import { Column, Entity, PrimaryColumn } from 'typeorm';

export type EmailTokenPurpose = 'verify' | 'reset' | 'change' | 'login' | 'pin_pattern';

/** A single-use secret sent by mail: a link token (256 bits) or a sign-in code (6 digits). */
@Entity({ name: 'email_tokens' })
export class EmailTokenEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  token_id: string;

  /** HMAC-SHA256 under a per-tenant key derived from the master key; never the token itself. */
  @Column({ type: 'text' })
  token_hash: string;

  @Column({ type: 'uuid' })
  user_id: string;

  @Column({ type: 'text' })
  purpose: EmailTokenPurpose;

  /** The address the token was mailed to (for a change: the new address). */
  @Column({ type: 'text', nullable: true })
  new_email: string | null;

  /** Wrong guesses so far (sign-in codes only). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  consumed_at: Date | null;

  /** A sign-in code sealed with the master key, so a repeated request resends it; null for links. */
  @Column({ type: 'text', nullable: true })
  secret_sealed: string | null;
}
