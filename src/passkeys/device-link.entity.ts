import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A device-addition link: lets another device register a passkey for the user, once. */
@Entity({ name: 'device_links' })
export class DeviceLinkEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  link_id: string;

  @Column({ type: 'uuid' })
  user_id: string;

  /** HMAC-SHA256 under a per-tenant key derived from the master key; never the token itself. */
  @Column({ type: 'text' })
  token_hash: string;

  /** 'user' (the user themself) or 'api_key' (an admin's key). */
  @Column({ type: 'text' })
  created_by_type: string;

  @Column({ type: 'text', nullable: true })
  created_by_id: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  used_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revoked_at: Date | null;

  /** The passkey the link registered. */
  @Column({ type: 'uuid', nullable: true })
  passkey_id: string | null;
}
