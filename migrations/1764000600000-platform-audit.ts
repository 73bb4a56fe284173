import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform audit log: operator-level actions (operator API keys, tenant create/update/
 * delete). Not tenant-owned, so no tenant_id key and no foreign key to tenants: the record of a
 * tenant's deletion must outlive the tenant.
 */
export class PlatformAudit1764000600000 implements MigrationInterface {
  name = 'PlatformAudit1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_audit_events (
        event_id     uuid NOT NULL,
        occurred_at  timestamptz NOT NULL,
        action       text COLLATE "C" NOT NULL,
        actor_type   text NOT NULL CHECK (actor_type IN ('api_key', 'system')),
        actor_id     text,
        actor_holder text,
        target_type  text NOT NULL,
        target_id    text,
        tenant_id    text,
        ip           text,
        request_id   text,
        user_agent   text,
        details      jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT platform_audit_events_pkey PRIMARY KEY (event_id)
      )`);
    await q.query(
      `CREATE INDEX platform_audit_events_time_idx ON platform_audit_events (occurred_at, event_id)`,
    );
    await q.query(
      `CREATE INDEX platform_audit_events_action_idx ON platform_audit_events (action, occurred_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform_audit_events`);
  }
}
