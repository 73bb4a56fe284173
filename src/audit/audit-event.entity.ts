import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ActorType = 'user' | 'api_key' | 'system';
export type AuditOutcome = 'success' | 'failure';

/** One security event. Append-only: rows leave only through retention. */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'timestamptz' })
  occurred_at: Date;

  @PrimaryColumn({ type: 'uuid' })
  event_id: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'text' })
  actor_type: ActorType;

  @Column({ type: 'text', nullable: true })
  actor_id: string | null;

  @Column({ type: 'text', nullable: true })
  subject_type: string | null;

  @Column({ type: 'text', nullable: true })
  subject_id: string | null;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ type: 'text', nullable: true })
  user_agent: string | null;

  @Column({ type: 'text' })
  outcome: AuditOutcome;

  @Column({ type: 'text', nullable: true })
  method: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  details: Record<string, unknown>;
}
