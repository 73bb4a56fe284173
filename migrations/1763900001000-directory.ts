import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users and groups. Uniques and lookup indexes lead with tenant_id; username and email are
 * unique case-insensitively (lower()), and text_pattern_ops lets prefix filters use the index.
 */
export class Directory1763900001000 implements MigrationInterface {
  name = 'Directory1763900001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        user_id             uuid NOT NULL,
        tenant_id           text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        username            text NOT NULL,
        email               text,
        is_disabled         boolean NOT NULL DEFAULT false,
        is_verified         boolean NOT NULL DEFAULT false,
        locale              text,
        roles               text[] NOT NULL DEFAULT '{}',
        external_id         text,
        display_name        text,
        given_name          text,
        family_name         text,
        password_hash       text,
        password_changed_at timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pkey PRIMARY KEY (tenant_id, user_id)
      )`);
    // COLLATE "C": one index serves equality, prefix LIKE and ORDER BY on the lowered value.
    // Not partial: NULL emails never collide in a unique index, and the planner keeps the
    // expression statistics it needs to choose this index for prefix filters.
    await q.query(
      `CREATE UNIQUE INDEX users_tenant_username_key ON users (tenant_id, (lower(username) COLLATE "C"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, (lower(email) COLLATE "C"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX users_tenant_external_id_key ON users (tenant_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX users_tenant_created_idx ON users (tenant_id, created_at, user_id)`,
    );

    await q.query(`
      CREATE TABLE groups (
        group_id     uuid NOT NULL,
        tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        name         text NOT NULL,
        display_name text,
        external_id  text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT groups_pkey PRIMARY KEY (tenant_id, group_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX groups_tenant_name_key ON groups (tenant_id, lower(name))`);
    await q.query(
      `CREATE UNIQUE INDEX groups_tenant_external_id_key ON groups (tenant_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX groups_tenant_created_idx ON groups (tenant_id, created_at, group_id)`,
    );

    await q.query(`
      CREATE TABLE group_members (
        tenant_id  text NOT NULL,
        group_id   uuid NOT NULL,
        user_id    uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT group_members_pkey PRIMARY KEY (tenant_id, group_id, user_id),
        FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id)`);

    await q.query(`
      CREATE TABLE group_allowed_clients (
        tenant_id text NOT NULL,
        group_id  uuid NOT NULL,
        client_id text NOT NULL,
        CONSTRAINT group_allowed_clients_pkey PRIMARY KEY (tenant_id, group_id, client_id),
        FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX group_allowed_clients_client_idx ON group_allowed_clients (tenant_id, client_id)`,
    );

    // Exact per-tenant user counts for unfiltered lists: counting a million rows per page view
    // costs tens of milliseconds, statement-level triggers keep the figure instead. The count is
    // spread over 16 shard rows per tenant (chosen by backend pid) so concurrent single-user
    // inserts of one tenant do not queue on one row lock; readers sum the shards.
    await q.query(`
      CREATE TABLE tenant_user_counts (
        tenant_id  text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        shard      smallint NOT NULL,
        user_count bigint NOT NULL DEFAULT 0,
        CONSTRAINT tenant_user_counts_pkey PRIMARY KEY (tenant_id, shard)
      )`);
    await q.query(`
      CREATE FUNCTION users_count_apply(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO tenant_user_counts AS c (tenant_id, shard, user_count)
          SELECT d.key, pg_backend_pid() % 16, d.value::bigint FROM jsonb_each_text(deltas) d
          -- a tenant being deleted cascades to its users: nothing left to count
          WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.tenant_id = d.key)
          ON CONFLICT (tenant_id, shard) DO UPDATE SET user_count = c.user_count + EXCLUDED.user_count;
      END $$`);
    await q.query(`
      CREATE FUNCTION users_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM users_count_apply((SELECT jsonb_object_agg(tenant_id, n)
          FROM (SELECT tenant_id, count(*) AS n FROM new_rows GROUP BY tenant_id) g));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION users_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM users_count_apply((SELECT jsonb_object_agg(tenant_id, -n)
          FROM (SELECT tenant_id, count(*) AS n FROM old_rows GROUP BY tenant_id) g));
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER users_count_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_insert()`,
    );
    await q.query(
      `CREATE TRIGGER users_count_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_delete()`,
    );

    await q.query(
      `ALTER TABLE api_keys ADD FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE group_allowed_clients, group_members, groups, tenant_user_counts, users CASCADE`,
    );
    await q.query(`DROP FUNCTION users_count_insert, users_count_delete, users_count_apply`);
  }
}
