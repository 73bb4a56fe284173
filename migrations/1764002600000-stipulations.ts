import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stipulations (issue 19): the terms version a user accepted and when (shown to admins on the
 * user), and whether the user must choose a new password because an admin set the current one.
 * `has_username_and_email` takes effect now (false: the email is the only identifier); it did
 * nothing before, so every stored tenant keeps the two fields it has been showing.
 */
export class Stipulations1764002600000 implements MigrationInterface {
  name = 'Stipulations1764002600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE users
         ADD COLUMN terms_accepted_version text NULL,
         ADD COLUMN terms_accepted_at timestamptz NULL,
         ADD COLUMN password_change_required boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `UPDATE tenants SET settings = settings || '{"has_username_and_email": true}'::jsonb
        WHERE settings->>'has_username_and_email' IS DISTINCT FROM 'true'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE users
         DROP COLUMN terms_accepted_version,
         DROP COLUMN terms_accepted_at,
         DROP COLUMN password_change_required`,
    );
  }
}
