import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Back-Channel Logout notices waiting for delivery (decision note 0026): a row per client to
 * tell, written when the session ends and deleted once delivered or given up. Replicas claim
 * due rows with FOR UPDATE SKIP LOCKED and push `next_attempt_at` ahead as a lease.
 */
export class BackchannelLogoutOutbox1764002300000 implements MigrationInterface {
  name = 'BackchannelLogoutOutbox1764002300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE backchannel_logout_outbox (
        tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        id               uuid NOT NULL,
        client_id        text NOT NULL,
        sub              text NOT NULL,
        sid              text,
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX backchannel_logout_outbox_due_idx ON backchannel_logout_outbox (tenant_id, next_attempt_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE backchannel_logout_outbox`);
  }
}
