import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ type: 'uuid' })
  user_id: string;

  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  username: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ type: 'boolean', default: false })
  is_disabled: boolean;

  /** Email verified. */
  @Column({ type: 'boolean', default: false })
  is_verified: boolean;

  @Column({ type: 'text', nullable: true })
  locale: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles: string[];

  @Column({ type: 'text', nullable: true })
  external_id: string | null;

  @Column({ type: 'text', nullable: true })
  display_name: string | null;

  @Column({ type: 'text', nullable: true })
  given_name: string | null;

  @Column({ type: 'text', nullable: true })
  family_name: string | null;

  /** bcrypt; never leaves the service. */
  @Column({ type: 'text', nullable: true, select: true })
  password_hash: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  password_changed_at: Date | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;
}

/** The columns a user's sign-in and OIDC claims are built from (read beside tokens too). */
export const CLAIM_COLUMNS = [
  'user_id',
  'username',
  'email',
  'is_disabled',
  'is_verified',
  'locale',
  'roles',
  'display_name',
  'given_name',
  'family_name',
] as const satisfies ReadonlyArray<keyof UserEntity>;
export type ClaimsUser = Pick<UserEntity, (typeof CLAIM_COLUMNS)[number]>;

/** Maintained by statement triggers on users (directory migration); read-only here. */
@Entity({ name: 'tenant_user_counts' })
export class TenantUserCountEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'smallint' })
  shard: number;

  @Column({ type: 'bigint' })
  user_count: string;
}
