import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The seed's per-client user agreement (terms a user accepts), beside policy and terms of service. */
export class ClientUserAgreement1764001500000 implements MigrationInterface {
  name = 'ClientUserAgreement1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients ADD COLUMN op_user_agreement_url text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN op_user_agreement_url`);
  }
}
