import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The one mapping of the `groups` table. */
@Entity({ name: 'groups' })
export class GroupEntity {
  @PrimaryColumn({ type: 'uuid' })
  group_id: string;

  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  display_name: string | null;

  @Column({ type: 'text', nullable: true })
  external_id: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;

  /**
   * Bumped by a trigger on every update, and membership changes touch the group (SCIM
   * meta.version). `select: false`: only provisioning reads it, through `GroupRows.provisioned()`.
   */
  @Column({ type: 'integer', default: 1, select: false })
  version: number;
}

@Entity({ name: 'group_members' })
export class GroupMemberEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  group_id: string;

  @PrimaryColumn({ type: 'uuid' })
  user_id: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}

/** Clients a group-restricted app admits; client_id refers to the clients table (OIDC issue). */
@Entity({ name: 'group_allowed_clients' })
export class GroupAllowedClientEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  group_id: string;

  @PrimaryColumn({ type: 'text' })
  client_id: string;
}
