import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dynamic client registration (RFC 7591/7592): initial access tokens an admin issues, and the
 * registration access token of each registered client. Both hold SHA-256 hashes only. A
 * registration goes with its client (and both with the tenant).
 */
export class DynamicRegistration1764001700000 implements MigrationInterface {
  name = 'DynamicRegistration1764001700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE initial_access_tokens (
        tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        token_id    uuid NOT NULL,
        token_hash  text NOT NULL,
        description text,
        expires_at  timestamptz NOT NULL,
        max_uses    integer CHECK (max_uses IS NULL OR max_uses > 0),
        uses        integer NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT initial_access_tokens_pkey PRIMARY KEY (tenant_id, token_id),
        CONSTRAINT initial_access_tokens_hash_key UNIQUE (tenant_id, token_hash)
      )`);
    await q.query(`
      CREATE TABLE client_registrations (
        tenant_id        text NOT NULL,
        client_id        text NOT NULL,
        token_hash       text NOT NULL,
        initial_token_id uuid,
        created_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT client_registrations_pkey PRIMARY KEY (tenant_id, client_id),
        CONSTRAINT client_registrations_client_fkey FOREIGN KEY (tenant_id, client_id)
          REFERENCES clients (tenant_id, client_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE client_registrations`);
    await q.query(`DROP TABLE initial_access_tokens`);
  }
}
