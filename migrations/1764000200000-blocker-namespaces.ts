import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blocker namespaces: blocks of a resolved account (user id) and of an OAuth client id are
 * their own kinds, no longer logins; and a platform-wide table for addresses blocked after
 * failed API-key authentications (no tenant: they hit every tenant's API at once).
 */
export class BlockerNamespaces1764000200000 implements MigrationInterface {
  name = 'BlockerNamespaces1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE blocks DROP CONSTRAINT blocks_kind_check`);
    await q.query(
      `ALTER TABLE blocks ADD CONSTRAINT blocks_kind_check
         CHECK (kind IN ('ip', 'user', 'account', 'client'))`,
    );
    await q.query(`
      CREATE TABLE platform_blocks (
        kind          text NOT NULL CHECK (kind IN ('ip')),
        subject       text NOT NULL,
        blocked_until timestamptz NOT NULL,
        attempts      integer NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT platform_blocks_pkey PRIMARY KEY (kind, subject)
      )`);
    await q.query(
      `CREATE INDEX platform_blocks_until_idx ON platform_blocks (kind, blocked_until)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform_blocks`);
    await q.query(`DELETE FROM blocks WHERE kind NOT IN ('ip', 'user')`);
    await q.query(`ALTER TABLE blocks DROP CONSTRAINT blocks_kind_check`);
    await q.query(
      `ALTER TABLE blocks ADD CONSTRAINT blocks_kind_check CHECK (kind IN ('ip', 'user'))`,
    );
  }
}
