import { Column, Entity, PrimaryColumn } from 'typeorm';

export type UpstreamKind = 'oidc' | 'oauth2';
export type UpstreamPreset = 'google' | 'microsoft' | 'github' | 'apple';
export type UpstreamResponseMode = 'query' | 'form_post';
/** `local`: the tenant's second-factor rules still apply after an upstream sign-in; `skip`: it is enough. */
export type UpstreamSecondFactor = 'local' | 'skip';

/** Which upstream claim (by name) fills which local field; unset keys take the OIDC names. */
export interface ClaimMapping {
  /** The claim that identifies the upstream account (default `sub`; GitHub preset: `id`). */
  subject?: string;
  username?: string;
  email?: string;
  email_verified?: string;
  name?: string;
  groups?: string;
}

/**
 * An identity provider a tenant's users may sign in with ("Sign in with Google"), issue 21
 * (migrations/1764002700000-upstream-providers.ts). `provider_id` is an admin-chosen slug used
 * in URLs. OIDC providers are described by their issuer (discovery at
 * `<issuer>/.well-known/openid-configuration`); OAuth2 ones (GitHub) by fixed endpoints.
 */
@Entity({ name: 'upstream_providers' })
export class UpstreamProviderEntity {
  @PrimaryColumn({ type: 'text' })
  tenant_id: string;

  /** `^[a-z0-9][a-z0-9-]{0,62}$` */
  @PrimaryColumn({ type: 'text' })
  provider_id: string;

  @Column({ type: 'text' })
  kind: UpstreamKind;

  @Column({ type: 'text', nullable: true })
  preset: UpstreamPreset | null;

  /** What the sign-in page's button says ("Google"). */
  @Column({ type: 'text' })
  label: string;

  @Column({ type: 'text', nullable: true })
  icon_url: string | null;

  /** OIDC: the discovery base. */
  @Column({ type: 'text', nullable: true })
  issuer: string | null;

  /** OAuth2: fixed (by preset or admin); OIDC: null (from discovery) unless overridden. */
  @Column({ type: 'text', nullable: true })
  authorization_endpoint: string | null;

  @Column({ type: 'text', nullable: true })
  token_endpoint: string | null;

  @Column({ type: 'text', nullable: true })
  userinfo_endpoint: string | null;

  @Column({ type: 'text' })
  client_id: string;

  /** SecretBox-sealed, bound to tenant and provider (upstreamSecretAad); never leaves the service. */
  @Column({ type: 'text', nullable: true })
  client_secret_sealed: string | null;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ type: 'boolean', default: true })
  pkce: boolean;

  @Column({ type: 'text', default: 'query' })
  response_mode: UpstreamResponseMode;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  claim_mapping: ClaimMapping;

  /** May create a local user at first sign-in (just-in-time). */
  @Column({ type: 'boolean', default: false })
  jit_create: boolean;

  /** May link to an existing local user whose email matches a verified upstream email. */
  @Column({ type: 'boolean', default: false })
  link_by_email: boolean;

  /** Lower-case email domains whose users go straight to this provider. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  domain_hints: string[];

  @Column({ type: 'boolean', default: false })
  group_sync: boolean;

  /** Upstream group value → local group id; empty with group_sync on: match local groups by name. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  group_mapping: Record<string, string>;

  @Column({ type: 'text', default: 'local' })
  second_factor: UpstreamSecondFactor;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'integer', default: 0 })
  display_order: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created_at: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updated_at: Date;
}

/** The admin-set columns (all but keys, the sealed secret and timestamps), in one list. */
export const PROVIDER_SETTINGS = [
  'kind',
  'preset',
  'label',
  'icon_url',
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'client_id',
  'scopes',
  'pkce',
  'response_mode',
  'claim_mapping',
  'jit_create',
  'link_by_email',
  'domain_hints',
  'group_sync',
  'group_mapping',
  'second_factor',
  'enabled',
  'display_order',
] as const satisfies ReadonlyArray<keyof UpstreamProviderEntity>;
