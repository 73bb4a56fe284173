import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit log, login analytics rollups and brute-force blocks. Every key and index leads with
 * tenant_id. The audit log is append-only: rows leave only through retention.
 */
export class AuditBlocker1763900004000 implements MigrationInterface {
  name = 'AuditBlocker1763900004000';

  async up(q: QueryRunner): Promise<void> {
    // COLLATE "C" on type: one index serves equality and prefix filters (`login.*`).
    await q.query(`
      CREATE TABLE audit_events (
        tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        event_id     uuid NOT NULL,
        occurred_at  timestamptz NOT NULL,
        type         text COLLATE "C" NOT NULL,
        actor_type   text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
        actor_id     text,
        subject_type text,
        subject_id   text,
        ip           text,
        user_agent   text,
        outcome      text NOT NULL CHECK (outcome IN ('success', 'failure')),
        method       text,
        details      jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, occurred_at, event_id)
      )`);
    await q.query(
      `CREATE INDEX audit_events_type_idx ON audit_events (tenant_id, type, occurred_at)`,
    );
    await q.query(
      `CREATE INDEX audit_events_subject_idx ON audit_events (tenant_id, subject_id, occurred_at) WHERE subject_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_id, occurred_at) WHERE actor_id IS NOT NULL`,
    );

    // Sign-in counts per bucket and method, kept at three granularities so a year answers from a
    // few thousand rows instead of a million events.
    await q.query(`
      CREATE TABLE login_rollups (
        tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        granularity text NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
        bucket      timestamptz NOT NULL,
        method      text NOT NULL,
        successes   bigint NOT NULL DEFAULT 0,
        failures    bigint NOT NULL DEFAULT 0,
        CONSTRAINT login_rollups_pkey PRIMARY KEY (tenant_id, granularity, bucket, method)
      )`);
    // Distinct signed-in users per bucket: login_user_seen dedups, login_active_users holds the
    // figure the analytics endpoint reads.
    await q.query(`
      CREATE TABLE login_user_seen (
        tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        granularity text NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
        bucket      timestamptz NOT NULL,
        user_id     text NOT NULL,
        CONSTRAINT login_user_seen_pkey PRIMARY KEY (tenant_id, granularity, bucket, user_id)
      )`);
    await q.query(`
      CREATE TABLE login_active_users (
        tenant_id   text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        granularity text NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
        bucket      timestamptz NOT NULL,
        users       bigint NOT NULL,
        CONSTRAINT login_active_users_pkey PRIMARY KEY (tenant_id, granularity, bucket)
      )`);

    // Written when a block starts (rare), so listing and unblocking work from any replica;
    // the hot check path reads Redis or memory only.
    await q.query(`
      CREATE TABLE blocks (
        tenant_id     text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        kind          text NOT NULL CHECK (kind IN ('ip', 'user')),
        subject       text NOT NULL,
        blocked_until timestamptz NOT NULL,
        attempts      integer NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT blocks_pkey PRIMARY KEY (tenant_id, kind, subject)
      )`);
    await q.query(
      `CREATE INDEX blocks_tenant_until_idx ON blocks (tenant_id, kind, blocked_until)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE blocks`);
    await q.query(`DROP TABLE login_active_users`);
    await q.query(`DROP TABLE login_user_seen`);
    await q.query(`DROP TABLE login_rollups`);
    await q.query(`DROP TABLE audit_events`);
  }
}
