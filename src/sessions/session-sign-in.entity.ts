import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where a session signed in (migrations/1763900007000-sessions.ts). */
@Entity({ name: 'session_sign_ins' })
export class SessionSignInEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  account_id: string;

  @PrimaryColumn({ type: 'bigint' })
  login_ts: string;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ type: 'text', nullable: true })
  user_agent: string | null;

  @Column({ type: 'timestamptz' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  last_seen_at: Date;
}
