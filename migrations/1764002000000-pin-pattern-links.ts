import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PIN/pattern links and proofs (issue 17): mailed single-use links that let a user set a new
 * PIN/pattern without being signed in (their own reset, or an admin's enrolment link), and the
 * short-lived record of a signed-in user's fresh PIN/pattern proof (aux-challenge) that an
 * email change spends.
 */
export class PinPatternLinks1764002000000 implements MigrationInterface {
  name = 'PinPatternLinks1764002000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check`);
    await q.query(
      `ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
         CHECK (purpose IN ('verify', 'reset', 'change', 'login', 'pin_pattern'))`,
    );
    await q.query(`ALTER TABLE pin_pattern_tickets DROP CONSTRAINT pin_pattern_tickets_kind_check`);
    await q.query(
      `ALTER TABLE pin_pattern_tickets ADD CONSTRAINT pin_pattern_tickets_kind_check
         CHECK (kind IN ('challenge', 'nonce', 'aux_proof'))`,
    );
    await q.query(
      `CREATE INDEX pin_pattern_tickets_user_idx ON pin_pattern_tickets (tenant_id, user_id, kind)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX pin_pattern_tickets_user_idx`);
    await q.query(`DELETE FROM pin_pattern_tickets WHERE kind = 'aux_proof'`);
    await q.query(`ALTER TABLE pin_pattern_tickets DROP CONSTRAINT pin_pattern_tickets_kind_check`);
    await q.query(
      `ALTER TABLE pin_pattern_tickets ADD CONSTRAINT pin_pattern_tickets_kind_check
         CHECK (kind IN ('challenge', 'nonce'))`,
    );
    await q.query(`DELETE FROM email_tokens WHERE purpose = 'pin_pattern'`);
    await q.query(`ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_purpose_check`);
    await q.query(
      `ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_purpose_check
         CHECK (purpose IN ('verify', 'reset', 'change', 'login'))`,
    );
  }
}
