import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ClientType = 'public' | 'confidential';

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  @PrimaryColumn({ type: 'text' })
  client_id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  client_type: ClientType;

  /** SecretBox-sealed client secret (confidential clients only); never leaves the service. */
  @Column({ type: 'text', nullable: true })
  secret_sealed: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  redirect_uris: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  post_logout_redirect_uris: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  allowed_scopes: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  grant_types: string[];

  @Column({ type: 'text' })
  token_endpoint_auth_method: string;

  @Column({ type: 'text', default: 'RS256' })
  id_token_signed_response_alg: string;

  @Column({ type: 'jsonb', nullable: true })
  jwks: { keys: Array<Record<string, unknown>> } | null;

  @Column({ type: 'text', nullable: true })
  jwks_uri: string | null;

  @Column({ type: 'text', nullable: true })
  logo_uri: string | null;

  @Column({ type: 'text', nullable: true })
  client_uri: string | null;

  @Column({ type: 'text', nullable: true })
  policy_uri: string | null;

  @Column({ type: 'text', nullable: true })
  tos_uri: string | null;

  /**
   * Front-Channel Logout: the page the logout page loads in a hidden iframe (the seed's name;
   * answered as frontchannel_logout_uri too).
   */
  @Column({ type: 'text', nullable: true })
  client_logout_uri: string | null;

  /** The front-channel iframe gets iss and sid query parameters. */
  @Column({ type: 'boolean', default: false })
  frontchannel_logout_session_required: boolean;

  /** Back-Channel Logout: the server endpoint that receives logout tokens. */
  @Column({ type: 'text', nullable: true })
  backchannel_logout_uri: string | null;

  /** ID and logout tokens carry the session id (sid). */
  @Column({ type: 'boolean', default: false })
  backchannel_logout_session_required: boolean;

  /** The seed's user agreement: terms a user accepts when signing in to this client. */
  @Column({ type: 'text', nullable: true })
  op_user_agreement_url: string | null;

  @Column({ type: 'boolean', default: false })
  register_enable: boolean;

  /** Access tokens only with a DPoP proof (RFC 9449): a stolen token is useless without the key. */
  @Column({ type: 'boolean', default: false })
  dpop_bound_access_tokens: boolean;

  /** Locked: no new logins through this client. */
  @Column({ type: 'boolean', default: false })
  is_lock: boolean;

  /** Only members of the groups allowed for this client may sign in. */
  @Column({ type: 'boolean', default: false })
  is_group_restricted: boolean;

  /** First-party apps skip the consent page. */
  @Column({ type: 'boolean', default: false })
  first_party: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;
}
