import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits on mail sent by public requests (sign-in codes, password resets): one row per request,
 * counted in a sliding window per requesting IP and per address (keyed hash, never the address
 * itself). A sign-in code is also kept sealed with the master key, so asking again resends the
 * live code instead of minting one that kills it.
 */
export class MailLimits1764000500000 implements MigrationInterface {
  name = 'MailLimits1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_requests (
        tenant_id  text NOT NULL,
        request_id uuid NOT NULL,
        subject    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mail_requests_pkey PRIMARY KEY (tenant_id, request_id)
      )`);
    await q.query(
      `CREATE INDEX mail_requests_subject_idx ON mail_requests (tenant_id, subject, created_at)`,
    );
    await q.query(`ALTER TABLE email_tokens ADD COLUMN secret_sealed text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE email_tokens DROP COLUMN secret_sealed`);
    await q.query(`DROP TABLE mail_requests`);
  }
}
