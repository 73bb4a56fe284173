import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A Back-Channel Logout notice not yet delivered (migrations/1764002300000-backchannel-logout-outbox.ts). */
@Entity({ name: 'backchannel_logout_outbox' })
export class BackchannelLogoutEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text' })
  client_id: string;

  @Column({ type: 'text' })
  sub: string;

  @Column({ type: 'text', nullable: true })
  sid: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz' })
  next_attempt_at: Date;

  @Column({ type: 'text', nullable: true })
  last_error: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}
