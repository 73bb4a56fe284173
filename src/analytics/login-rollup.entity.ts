import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RollupGranularity = 'minute' | 'hour' | 'day';
export type ActiveGranularity = 'hour' | 'day' | 'month';

/** Sign-in counts per bucket and method; maintained as audit events are written. */
@Entity({ name: 'login_rollups' })
export class LoginRollupEntity {
  @PrimaryColumn({ type: 'text' }) tenant_id: string;
  @PrimaryColumn({ type: 'text' }) granularity: RollupGranularity;
  @PrimaryColumn({ type: 'timestamptz' }) bucket: Date;
  @PrimaryColumn({ type: 'text' }) method: string;
  @Column({ type: 'bigint' }) successes: string;
  @Column({ type: 'bigint' }) failures: string;
}

/** Which users signed in during a bucket: only there to count each user once. */
@Entity({ name: 'login_user_seen' })
export class LoginUserSeenEntity {
  @PrimaryColumn({ type: 'text' }) tenant_id: string;
  @PrimaryColumn({ type: 'text' }) granularity: ActiveGranularity;
  @PrimaryColumn({ type: 'timestamptz' }) bucket: Date;
  @PrimaryColumn({ type: 'text' }) user_id: string;
}

/** Distinct users who signed in during a bucket. */
@Entity({ name: 'login_active_users' })
export class LoginActiveUsersEntity {
  @PrimaryColumn({ type: 'text' }) tenant_id: string;
  @PrimaryColumn({ type: 'text' }) granularity: ActiveGranularity;
  @PrimaryColumn({ type: 'timestamptz' }) bucket: Date;
  @Column({ type: 'bigint' }) users: string;
}
