import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Upstream identity providers (issue 21): per tenant, the OIDC / OAuth2 providers its users may
 * sign in with, and the links between local users and upstream identities. A link is keyed by
 * (provider, upstream subject), never the email; one link per provider per user. Both tables go
 * with their tenant, a link with its user and with its provider.
 */
export class UpstreamProviders1764002700000 implements MigrationInterface {
  name = 'UpstreamProviders1764002700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE upstream_providers (
        tenant_id              text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        provider_id            text NOT NULL CHECK (provider_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        kind                   text NOT NULL CHECK (kind IN ('oidc', 'oauth2')),
        preset                 text CHECK (preset IN ('google', 'microsoft', 'github', 'apple')),
        label                  text NOT NULL,
        icon_url               text,
        issuer                 text,
        authorization_endpoint text,
        token_endpoint         text,
        userinfo_endpoint      text,
        client_id              text NOT NULL,
        client_secret_sealed   text,
        scopes                 text[] NOT NULL DEFAULT '{}',
        pkce                   boolean NOT NULL DEFAULT true,
        response_mode          text NOT NULL DEFAULT 'query' CHECK (response_mode IN ('query', 'form_post')),
        claim_mapping          jsonb NOT NULL DEFAULT '{}'::jsonb,
        jit_create             boolean NOT NULL DEFAULT false,
        link_by_email          boolean NOT NULL DEFAULT false,
        domain_hints           text[] NOT NULL DEFAULT '{}',
        group_sync             boolean NOT NULL DEFAULT false,
        group_mapping          jsonb NOT NULL DEFAULT '{}'::jsonb,
        second_factor          text NOT NULL DEFAULT 'local' CHECK (second_factor IN ('local', 'skip')),
        enabled                boolean NOT NULL DEFAULT true,
        display_order          integer NOT NULL DEFAULT 0,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT upstream_providers_pkey PRIMARY KEY (tenant_id, provider_id)
      )`);
    await q.query(`
      CREATE TABLE user_identity_links (
        tenant_id    text NOT NULL,
        id           uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id      uuid NOT NULL,
        provider_id  text NOT NULL,
        subject      text NOT NULL,
        email        text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT user_identity_links_pkey PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, provider_id)
          REFERENCES upstream_providers (tenant_id, provider_id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX user_identity_links_subject_key
         ON user_identity_links (tenant_id, provider_id, subject)`,
    );
    // Also the index of a user's links (its prefix is (tenant_id, user_id)).
    await q.query(
      `CREATE UNIQUE INDEX user_identity_links_user_provider_key
         ON user_identity_links (tenant_id, user_id, provider_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE user_identity_links');
    await q.query('DROP TABLE upstream_providers');
  }
}
