import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One table for every oidc-provider artefact (sessions, grants, codes, tokens, interactions,
 * device codes, PAR requests). The payload is opaque to the database; the columns beside it
 * are what the adapter looks up by. Clients are not stored here: they come from `clients`.
 */
export class Oidc1763900003000 implements MigrationInterface {
  name = 'Oidc1763900003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oidc_payloads (
        tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        model       text NOT NULL,
        id          text NOT NULL,
        payload     jsonb NOT NULL,
        grant_id    text,
        user_code   text,
        uid         text,
        expires_at  timestamptz,
        consumed_at timestamptz,
        CONSTRAINT oidc_payloads_pkey PRIMARY KEY (tenant_id, model, id)
      )`);
    await q.query(
      `CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (tenant_id, grant_id) WHERE grant_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (tenant_id, user_code) WHERE user_code IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (tenant_id, uid) WHERE uid IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (tenant_id, expires_at) WHERE expires_at IS NOT NULL`,
    );
    // Ending a user's sessions and grants (disabled, deleted) and finding the consent they gave
    // earlier both look rows up by the account inside the payload.
    await q.query(
      `CREATE INDEX oidc_payloads_account_idx ON oidc_payloads (tenant_id, (payload->>'accountId'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oidc_payloads`);
  }
}
