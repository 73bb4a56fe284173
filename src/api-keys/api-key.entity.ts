import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Holder } from '../auth/scopes.js';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  key_id: string;

  /** null only for operator keys. */
  @Column({ type: 'text', nullable: true })
  tenant_id: string | null;

  @Column({ type: 'uuid', nullable: true })
  user_id: string | null;

  @Column({ type: 'text' })
  kind: Holder;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ type: 'text' })
  key_hash: string;

  @Column({ type: 'text' })
  key_prefix: string;

  @Column({ type: 'boolean', default: true })
  is_active: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;
}
