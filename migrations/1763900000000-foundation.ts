import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants and API keys: the foundation every tenant-owned table references. */
export class Foundation1763900000000 implements MigrationInterface {
  name = 'Foundation1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        tenant_id    text PRIMARY KEY,
        display_name text NOT NULL,
        settings     jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tenants_created_at_idx ON tenants (created_at, tenant_id)`);
    // API keys are found by the hash of the presented key before any tenant is known, so this
    // is the one lookup that cannot lead with tenant_id; operator keys have no tenant at all.
    await q.query(`
      CREATE TABLE api_keys (
        key_id       uuid PRIMARY KEY,
        tenant_id    text REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        user_id      uuid,
        kind         text NOT NULL CHECK (kind IN ('operator', 'tenant', 'user')),
        name         text NOT NULL,
        scopes       text[] NOT NULL,
        key_hash     text NOT NULL,
        key_prefix   text NOT NULL,
        is_active    boolean NOT NULL DEFAULT true,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
        CONSTRAINT api_keys_tenant_kind CHECK ((kind = 'operator') = (tenant_id IS NULL))
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at, key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE tenants`);
  }
}
