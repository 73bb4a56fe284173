import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of users/batch and SCIM Bulk: one row per tenant and key, claimed while its
 * request runs (status null), then holding the answer until it expires.
 */
export class IdempotencyKeys1764001300000 implements MigrationInterface {
  name = 'IdempotencyKeys1764001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        key          text NOT NULL,
        fingerprint  text NOT NULL,
        status       integer,
        content_type text,
        body         text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key)
      )`);
    await q.query(
      `CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (tenant_id, expires_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
