import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What inbound provisioning (SCIM) stores beyond the directory's own columns: the `users.scim`
 * jsonb. Its attribute rules live in src/scim; the column, like the table, is owned here.
 */
export interface ScimUserExtras {
  name?: {
    formatted?: string;
    middleName?: string;
    honorificPrefix?: string;
    honorificSuffix?: string;
  };
  nickName?: string;
  profileUrl?: string;
  title?: string;
  userType?: string;
  preferredLanguage?: string;
  timezone?: string;
  /** The element without `value` stands for the directory's `email` column. */
  emails?: Array<Record<string, unknown>>;
  phoneNumbers?: Array<Record<string, unknown>>;
  ims?: Array<Record<string, unknown>>;
  photos?: Array<Record<string, unknown>>;
  addresses?: Array<Record<string, unknown>>;
  entitlements?: Array<Record<string, unknown>>;
  x509Certificates?: Array<Record<string, unknown>>;
  enterprise?: {
    employeeNumber?: string;
    costCenter?: string;
    organization?: string;
    division?: string;
    department?: string;
  };
}

/**
 * The one mapping of the `users` table. The provisioning columns (`scim`, `manager_id`,
 * `version`) are `select: false`: the directory's own reads (sign-in, claims, the management
 * API) never load them, and SCIM reads them through `UserRows.provisioned()`.
 */
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

  /** The OIDC `picture` claim: an https URL of the user's image. */
  @Column({ type: 'text', nullable: true })
  picture: string | null;

  /** bcrypt; never leaves the service. */
  @Column({ type: 'text', nullable: true, select: true })
  password_hash: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  password_changed_at: Date | null;

  /** The terms version the user last accepted (stipulation accepted_terms), and when. */
  @Column({ type: 'text', nullable: true })
  terms_accepted_version: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  terms_accepted_at: Date | null;

  /** An admin set the password: the user chooses a new one (stipulation password_changed_after_reset). */
  @Column({ type: 'boolean', default: false })
  password_change_required: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;

  /** SCIM attributes without a column of their own (see ScimUserExtras). */
  @Column({ type: 'jsonb', default: () => "'{}'", select: false })
  scim: ScimUserExtras;

  /** The enterprise extension's manager (SCIM). */
  @Column({ type: 'uuid', nullable: true, select: false })
  manager_id: string | null;

  /** Bumped by a trigger on every update (SCIM meta.version). */
  @Column({ type: 'integer', default: 1, select: false })
  version: number;
}

/** The columns only provisioning reads (not selected by default). */
export const PROVISIONING_COLUMNS = [
  'scim',
  'manager_id',
  'version',
] as const satisfies ReadonlyArray<keyof UserEntity>;

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
  'created_at',
  'updated_at',
  'picture',
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
