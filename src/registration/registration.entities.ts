import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A token an admin hands a developer (or an agent platform) so it may register one client. */
@Entity({ name: 'initial_access_tokens' })
export class InitialAccessTokenEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'uuid' })
  token_id: string;

  /** SHA-256 of the token; the token itself is shown once, at issue. */
  @Column({ type: 'text' })
  token_hash: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  /** How many clients it may register; null: any number until it expires. */
  @Column({ type: 'integer', nullable: true })
  max_uses: number | null;

  @Column({ type: 'integer', default: 0 })
  uses: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}

/** A dynamically registered client's registration access token (RFC 7592), as a hash. */
@Entity({ name: 'client_registrations' })
export class ClientRegistrationEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'text' })
  client_id: string;

  @Column({ type: 'text' })
  token_hash: string;

  @Column({ type: 'uuid', nullable: true })
  initial_token_id: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;
}
