import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM provisioning. The directory's columns stay the system of record for what other modules
 * read (username, email, names, active); everything else SCIM clients send lives in one jsonb
 * column, so new SCIM attributes need no migration. `version` backs meta.version ETags: a row
 * trigger bumps it on every update, whichever API made the change, and membership changes
 * touch their group so a group's ETag changes when its members do.
 */
export class Scim1763900005000 implements MigrationInterface {
  name = 'Scim1763900005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ADD COLUMN scim       jsonb   NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN manager_id uuid,
        ADD COLUMN version    integer NOT NULL DEFAULT 1`);
    // Deleting a manager clears the reference only (not tenant_id, which is part of the key).
    await q.query(`
      ALTER TABLE users ADD CONSTRAINT users_manager_fkey FOREIGN KEY (tenant_id, manager_id)
        REFERENCES users (tenant_id, user_id) ON DELETE SET NULL (manager_id)`);
    await q.query(
      `CREATE INDEX users_tenant_manager_idx ON users (tenant_id, manager_id) WHERE manager_id IS NOT NULL`,
    );

    await q.query(`ALTER TABLE groups ADD COLUMN version integer NOT NULL DEFAULT 1`);
    // Entra looks groups up by displayName (case-insensitive in SCIM).
    await q.query(
      `CREATE INDEX groups_tenant_display_name_idx ON groups (tenant_id, lower(coalesce(display_name, name)))`,
    );

    await q.query(`
      CREATE FUNCTION scim_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
      END $$`);
    await q.query(
      `CREATE TRIGGER users_bump_version BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION scim_bump_version()`,
    );
    await q.query(
      `CREATE TRIGGER groups_bump_version BEFORE UPDATE ON groups FOR EACH ROW EXECUTE FUNCTION scim_bump_version()`,
    );

    await q.query(`
      CREATE FUNCTION group_members_touch_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE groups g SET updated_at = now()
          FROM (SELECT DISTINCT tenant_id, group_id FROM new_rows) c
          WHERE g.tenant_id = c.tenant_id AND g.group_id = c.group_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION group_members_touch_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE groups g SET updated_at = now()
          FROM (SELECT DISTINCT tenant_id, group_id FROM old_rows) c
          WHERE g.tenant_id = c.tenant_id AND g.group_id = c.group_id;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER group_members_touch_inserted AFTER INSERT ON group_members REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION group_members_touch_inserted()`,
    );
    await q.query(
      `CREATE TRIGGER group_members_touch_deleted AFTER DELETE ON group_members REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION group_members_touch_deleted()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER group_members_touch_inserted ON group_members`);
    await q.query(`DROP TRIGGER group_members_touch_deleted ON group_members`);
    await q.query(`DROP TRIGGER users_bump_version ON users`);
    await q.query(`DROP TRIGGER groups_bump_version ON groups`);
    await q.query(
      `DROP FUNCTION group_members_touch_inserted, group_members_touch_deleted, scim_bump_version`,
    );
    await q.query(`DROP INDEX groups_tenant_display_name_idx`);
    await q.query(`ALTER TABLE groups DROP COLUMN version`);
    await q.query(`DROP INDEX users_tenant_manager_idx`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_manager_fkey`);
    await q.query(
      `ALTER TABLE users DROP COLUMN scim, DROP COLUMN manager_id, DROP COLUMN version`,
    );
  }
}
