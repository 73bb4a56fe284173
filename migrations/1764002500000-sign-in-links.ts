import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-time sign-in links (issue 19, decision 0032): magic links mailed from the hosted login,
 * bound to one authorisation and the asking browser, and admin-issued support tokens. Only
 * keyed hashes of the secrets are stored.
 */
export class SignInLinks1764002500000 implements MigrationInterface {
  name = 'SignInLinks1764002500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sign_in_links (
        tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        link_id          uuid NOT NULL,
        kind             text NOT NULL CHECK (kind IN ('magic', 'admin')),
        token_hash       text NOT NULL,
        user_id          uuid NOT NULL,
        interaction_uid  text,
        nonce_hash       text,
        code_hash        text,
        attempts         integer NOT NULL DEFAULT 0,
        created_by       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        expires_at       timestamptz NOT NULL,
        consumed_at      timestamptz,
        PRIMARY KEY (tenant_id, link_id)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX sign_in_links_token_idx ON sign_in_links (tenant_id, token_hash)`,
    );
    await q.query(
      `CREATE INDEX sign_in_links_nonce_idx ON sign_in_links (tenant_id, interaction_uid, nonce_hash)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sign_in_links`);
  }
}
