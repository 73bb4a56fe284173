import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { JWK } from 'jose';
import type { SigningAlg } from '../../libs/crypto/keys.js';

/**
 * active: signs (one per alg); grace: no longer signs, still published so tokens it signed keep
 * verifying until expires_at; retired: out of the JWKS, private part erased.
 */
export type SigningKeyState = 'active' | 'grace' | 'retired';

@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'text' })
  kid: string;

  @Column({ type: 'text' })
  alg: SigningAlg;

  @Column({ type: 'text' })
  state: SigningKeyState;

  @Column({ type: 'jsonb' })
  public_jwk: JWK;

  /** SecretBox-sealed private JWK; null once retired. */
  @Column({ type: 'text', nullable: true })
  private_jwk_sealed: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  rotated_at: Date | null;

  /** End of the grace period (grace keys) or when it ended (retired keys). */
  @Column({ type: 'timestamptz', nullable: true })
  expires_at: Date | null;
}
