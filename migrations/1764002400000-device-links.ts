import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device-addition links (issue 19): a single-use, time-limited link that lets another device
 * register a passkey for a user without a password. Only a keyed hash of the token is kept;
 * a row says who made it and whether it was used or revoked, so admins can list open links.
 */
export class DeviceLinks1764002400000 implements MigrationInterface {
  name = 'DeviceLinks1764002400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_links (
        tenant_id       text NOT NULL,
        link_id         uuid NOT NULL,
        user_id         uuid NOT NULL,
        token_hash      text NOT NULL,
        created_by_type text NOT NULL CHECK (created_by_type IN ('user', 'api_key', 'system')),
        created_by_id   text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL,
        used_at         timestamptz,
        revoked_at      timestamptz,
        passkey_id      uuid,
        CONSTRAINT device_links_pkey PRIMARY KEY (tenant_id, link_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX device_links_tenant_hash_key ON device_links (tenant_id, token_hash)`,
    );
    await q.query(
      `CREATE INDEX device_links_user_idx ON device_links (tenant_id, user_id, created_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_links`);
  }
}
