import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OIDC clients and per-tenant signing keys. Secrets and private keys are stored sealed
 * (AES-256-GCM under the master key, bound to their row by the AAD), never in clear.
 */
export class ClientsSigningKeys1763900002000 implements MigrationInterface {
  name = 'ClientsSigningKeys1763900002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        tenant_id                    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        client_id                    text NOT NULL,
        name                         text NOT NULL,
        client_type                  text NOT NULL CHECK (client_type IN ('public', 'confidential')),
        secret_sealed                text,
        redirect_uris                text[] NOT NULL DEFAULT '{}',
        post_logout_redirect_uris    text[] NOT NULL DEFAULT '{}',
        allowed_scopes               text[] NOT NULL DEFAULT '{}',
        grant_types                  text[] NOT NULL DEFAULT '{}',
        token_endpoint_auth_method   text NOT NULL,
        id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
        jwks                         jsonb,
        jwks_uri                     text,
        logo_uri                     text,
        client_uri                   text,
        policy_uri                   text,
        tos_uri                      text,
        client_logout_uri            text,
        register_enable              boolean NOT NULL DEFAULT false,
        is_lock                      boolean NOT NULL DEFAULT false,
        is_group_restricted          boolean NOT NULL DEFAULT false,
        first_party                  boolean NOT NULL DEFAULT false,
        created_at                   timestamptz NOT NULL DEFAULT now(),
        updated_at                   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT clients_pkey PRIMARY KEY (tenant_id, client_id),
        -- a public client has no secret and authenticates with none; a confidential one has one
        CONSTRAINT clients_secret_by_type CHECK ((client_type = 'confidential') = (secret_sealed IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX clients_tenant_created_idx ON clients (tenant_id, created_at, client_id)`,
    );

    await q.query(`
      CREATE TABLE signing_keys (
        tenant_id          text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        kid                text NOT NULL,
        alg                text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
        state              text NOT NULL CHECK (state IN ('active', 'grace', 'retired')),
        public_jwk         jsonb NOT NULL,
        -- dropped when the key retires: nothing is signed or verified with it any more
        private_jwk_sealed text,
        created_at         timestamptz NOT NULL DEFAULT now(),
        rotated_at         timestamptz,
        expires_at         timestamptz,
        CONSTRAINT signing_keys_pkey PRIMARY KEY (tenant_id, kid),
        CONSTRAINT signing_keys_private_while_used CHECK (state = 'retired' OR private_jwk_sealed IS NOT NULL)
      )`);
    // One signing key per algorithm at a time, whatever two concurrent rotations do.
    await q.query(
      `CREATE UNIQUE INDEX signing_keys_one_active_key ON signing_keys (tenant_id, alg) WHERE state = 'active'`,
    );
    // The retirement job looks across tenants for keys whose grace period ended (and for long
    // retired ones to delete); only keys out of service are in this index, so it need not lead
    // with tenant_id.
    await q.query(
      `CREATE INDEX signing_keys_out_of_service_idx ON signing_keys (state, expires_at) WHERE state <> 'active'`,
    );
    // A group's allowed clients go when the client goes.
    await q.query(
      `ALTER TABLE group_allowed_clients ADD CONSTRAINT group_allowed_clients_client_fkey
         FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE group_allowed_clients DROP CONSTRAINT group_allowed_clients_client_fkey`,
    );
    await q.query(`DROP TABLE signing_keys`);
    await q.query(`DROP TABLE clients`);
  }
}
