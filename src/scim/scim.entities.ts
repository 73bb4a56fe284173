import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What SCIM stores beyond the directory's own columns (the `users.scim` jsonb). */
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
 * The directory's users table as SCIM sees it: the columns of UserEntity plus the ones the
 * SCIM migration adds. The users module stays the owner of the rules its columns carry.
 */
@Entity({ name: 'users' })
export class ScimUserRow {
  @PrimaryColumn({ type: 'uuid' }) user_id: string;
  @PrimaryColumn({ type: 'text' }) tenant_id: string;
  @Column({ type: 'text' }) username: string;
  @Column({ type: 'text', nullable: true }) email: string | null;
  @Column({ type: 'boolean', default: false }) is_disabled: boolean;
  @Column({ type: 'boolean', default: false }) is_verified: boolean;
  @Column({ type: 'text', nullable: true }) locale: string | null;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) roles: string[];
  @Column({ type: 'text', nullable: true }) external_id: string | null;
  @Column({ type: 'text', nullable: true }) display_name: string | null;
  @Column({ type: 'text', nullable: true }) given_name: string | null;
  @Column({ type: 'text', nullable: true }) family_name: string | null;
  @Column({ type: 'text', nullable: true }) password_hash: string | null;
  @Column({ type: 'timestamptz', nullable: true }) password_changed_at: Date | null;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created_at: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) updated_at: Date;
  @Column({ type: 'jsonb', default: () => "'{}'" }) scim: ScimUserExtras;
  @Column({ type: 'uuid', nullable: true }) manager_id: string | null;
  /** Bumped by a trigger on every update (meta.version). */
  @Column({ type: 'integer', default: 1 }) version: number;
}

@Entity({ name: 'groups' })
export class ScimGroupRow {
  @PrimaryColumn({ type: 'uuid' }) group_id: string;
  @PrimaryColumn({ type: 'text' }) tenant_id: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', nullable: true }) display_name: string | null;
  @Column({ type: 'text', nullable: true }) external_id: string | null;
  @Column({ type: 'timestamptz', default: () => 'now()' }) created_at: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) updated_at: Date;
  /** Bumped by a trigger on every update, and membership changes touch the group (meta.version). */
  @Column({ type: 'integer', default: 1 }) version: number;
}
