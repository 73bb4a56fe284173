import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `magic`: mailed from the hosted login for one pending authorisation; `admin`: issued by an admin for support. */
export type SignInLinkKind = 'magic' | 'admin';

/**
 * A one-time sign-in link (decision 0032). Only keyed hashes of the token, of the asking
 * browser's nonce and of the cross-browser code are stored; the token itself is in the mail
 * (or in the admin's one answer) only.
 */
@Entity({ name: 'sign_in_links' })
export class SignInLinkEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  link_id: string;

  @Column({ type: 'text' })
  kind: SignInLinkKind;

  @Column({ type: 'text' })
  token_hash: string;

  @Column({ type: 'uuid' })
  user_id: string;

  /** The authorisation (oidc-provider interaction uid) a magic link finishes. */
  @Column({ type: 'text', nullable: true })
  interaction_uid: string | null;

  /** Hash of the nonce cookie of the browser that asked (magic links). */
  @Column({ type: 'text', nullable: true })
  nonce_hash: string | null;

  /** Hash of the short code another browser shows, typed back in the asking browser. */
  @Column({ type: 'text', nullable: true })
  code_hash: string | null;

  /** Wrong codes so far. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** Who issued an admin link (API key id), for the audit of its use. */
  @Column({ type: 'text', nullable: true })
  created_by: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  consumed_at: Date | null;
}
