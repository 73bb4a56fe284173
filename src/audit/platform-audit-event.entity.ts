import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One operator-level action (operator API keys, tenants). Platform-wide, not tenant-owned: it
 * keeps the target tenant's id as data so the record of a deletion outlives the tenant.
 */
@Entity({ name: 'platform_audit_events' })
export class PlatformAuditEventEntity {
  @PrimaryColumn({ type: 'uuid' })
  event_id: string;

  @Column({ type: 'timestamptz' })
  occurred_at: Date;

  /** `operator_key.create`, `tenant.delete`... */
  @Column({ type: 'text' })
  action: string;

  @Column({ type: 'text' })
  actor_type: 'api_key' | 'system';

  /** The calling key's id (never the key). */
  @Column({ type: 'text', nullable: true })
  actor_id: string | null;

  /** operator, tenant or user: which kind of credential acted. */
  @Column({ type: 'text', nullable: true })
  actor_holder: string | null;

  @Column({ type: 'text' })
  target_type: string;

  @Column({ type: 'text', nullable: true })
  target_id: string | null;

  @Column({ type: 'text', nullable: true })
  tenant_id: string | null;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ type: 'text', nullable: true })
  request_id: string | null;

  @Column({ type: 'text', nullable: true })
  user_agent: string | null;

  /** Names, never values: which fields changed, which scopes a key got. */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  details: Record<string, unknown>;
}
