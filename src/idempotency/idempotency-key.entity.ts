import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A request made with an Idempotency-Key: claimed (status null) while it runs, then its answer,
 * kept until `expires_at` so a resend with the same key and body gets the same answer.
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'text' })
  key: string;

  /** sha256 of method, route and canonical body: the same key with another body is refused. */
  @Column({ type: 'text' })
  fingerprint: string;

  @Column({ type: 'integer', nullable: true })
  status: number | null;

  @Column({ type: 'text', nullable: true })
  content_type: string | null;

  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  expires_at: Date;
}
