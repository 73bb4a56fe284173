import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The seed's per-client user agreement (terms a user accepts), beside policy and terms of service,
 * and whether the client's access tokens must be DPoP-bound (RFC 9449).
 */
export class ClientUserAgreement1764001500000 implements MigrationInterface {
  name = 'ClientUserAgreement1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients ADD COLUMN op_user_agreement_url text`);
    await q.query(
      `ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN op_user_agreement_url`);
    await q.query(`ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens`);
  }
}
