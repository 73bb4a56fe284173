import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A row per oidc-provider artefact of a tenant (see migrations/1763900003000-oidc.ts). */
@Entity({ name: 'oidc_payloads' })
export class OidcPayloadEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'text' })
  model: string;

  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  grant_id: string | null;

  @Column({ type: 'text', nullable: true })
  user_code: string | null;

  @Column({ type: 'text', nullable: true })
  uid: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  expires_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  consumed_at: Date | null;
}
