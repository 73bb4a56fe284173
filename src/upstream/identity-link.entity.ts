import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A local user's link to an upstream identity: (provider, upstream `sub`) is the key, never the
 * email (issue 21). One link per provider per user; a subject links to one user only.
 */
@Entity({ name: 'user_identity_links' })
export class IdentityLinkEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' })
  id: string;

  @Column({ type: 'uuid' })
  user_id: string;

  @Column({ type: 'text' })
  provider_id: string;

  /** The upstream `sub` (GitHub: the numeric user id). */
  @Column({ type: 'text' })
  subject: string;

  /** The upstream email when linked or last used (display only). */
  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;
}
