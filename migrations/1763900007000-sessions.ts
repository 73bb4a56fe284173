import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the sessions list shows beside oidc-provider's own Session artefact: where and with what
 * a session signed in. oidc-provider keeps a fixed set of Session fields, so the row is linked
 * to the session by (account, login time): the hosted login picks a login time unique per
 * account when it finishes a sign-in (see SessionsService.recordSignIn).
 */
export class Sessions1763900007000 implements MigrationInterface {
  name = 'Sessions1763900007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session_sign_ins (
        tenant_id    text NOT NULL,
        account_id   uuid NOT NULL,
        login_ts     bigint NOT NULL,
        ip           text,
        user_agent   text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT session_sign_ins_pkey PRIMARY KEY (tenant_id, account_id, login_ts),
        FOREIGN KEY (tenant_id, account_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE session_sign_ins');
  }
}
