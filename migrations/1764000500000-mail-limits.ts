import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits on mail sent by public requests (sign-in codes, password resets): one counter row per
 * requesting IP and per address (keyed hash, never the address itself), with the start of its
 * window. A sign-in code is also kept sealed with the master key, so asking again resends the
 * live code instead of minting one that kills it.
 */
export class MailLimits1764000500000 implements MigrationInterface {
  name = 'MailLimits1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_limits (
        tenant_id    text NOT NULL,
        subject      text NOT NULL,
        window_start timestamptz NOT NULL,
        count        integer NOT NULL,
        CONSTRAINT mail_limits_pkey PRIMARY KEY (tenant_id, subject)
      )`);
    await q.query(`ALTER TABLE email_tokens ADD COLUMN secret_sealed text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE email_tokens DROP COLUMN secret_sealed`);
    await q.query(`DROP TABLE mail_limits`);
  }
}
