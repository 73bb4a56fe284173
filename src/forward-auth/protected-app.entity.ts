import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Which identity header carries what; unset keys take the defaults (Remote-User, ...). */
export interface HeaderMapping {
  user?: string;
  email?: string;
  name?: string;
  groups?: string;
  id?: string;
}

/** An app a tenant protects behind a reverse proxy (migrations/1764001000000-forward-auth.ts). */
@Entity({ name: 'protected_apps' })
export class ProtectedAppEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  app_id: string;

  @Column({ type: 'text' })
  name: string;

  /** Lower-case host names, with a port when the app is not on 80/443. */
  @Column({ type: 'text', array: true })
  hosts: string[];

  @Column({ type: 'text' })
  path_prefix: string;

  @Column({ type: 'uuid', array: true })
  allowed_group_ids: string[];

  @Column({ type: 'jsonb' })
  headers: HeaderMapping;

  @Column({ type: 'boolean' })
  jwt_header: boolean;

  /** Seconds a forward-auth cookie lives after sign-in. */
  @Column({ type: 'integer' })
  session_lifetime: number;

  /** Seconds without a check after which the cookie is refused; null: no idle limit. */
  @Column({ type: 'integer', nullable: true })
  idle_timeout: number | null;

  @Column({ type: 'boolean' })
  require_2fa: boolean;

  /** Parent cookie domain (apps on its subdomains share one cookie); null: per-host cookies. */
  @Column({ type: 'text', nullable: true })
  cookie_domain: string | null;

  @Column({ type: 'timestamptz' })
  created_at: Date;

  @Column({ type: 'timestamptz' })
  updated_at: Date;
}

/** One revocation of forward-auth cookies, replayed by every replica (see revocations.ts). */
@Entity({ name: 'forward_auth_revocations' })
export class ForwardAuthRevocationEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  revocation_id: string;

  /** session: one OIDC session uid; account: every cookie of the account issued before; apps: reload the app list. */
  @Column({ type: 'text' })
  kind: 'session' | 'account' | 'apps';

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'timestamptz' })
  revoked_at: Date;

  @Column({ type: 'timestamptz' })
  expires_at: Date;
}
