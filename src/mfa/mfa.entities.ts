import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's TOTP authenticator: pending until confirmed with a first code. */
@Entity({ name: 'user_totp' })
export class UserTotpEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  user_id: string;

  /** SecretBox-sealed base32 secret, bound to tenant and user; never leaves the service. */
  @Column({ type: 'text' })
  secret_sealed: string;

  @Column({ type: 'boolean', default: false })
  is_enabled: boolean;

  /** Highest 30-second step accepted; codes of this step or earlier are refused (replay). */
  @Column({ type: 'bigint', nullable: true })
  last_used_step: string | null;

  /** Codes tried since the last success (or since the lockout ended). */
  @Column({ type: 'integer', default: 0 })
  failed_attempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  failed_at: Date | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  enabled_at: Date | null;
}

@Entity({ name: 'recovery_codes' })
export class RecoveryCodeEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  user_id: string;

  /** HMAC-SHA256 under a per-tenant key derived from the master key. */
  @PrimaryColumn({ type: 'text' })
  code_hash: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  used_at: Date | null;
}
