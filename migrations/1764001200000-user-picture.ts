import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The user's picture (OIDC `picture` claim), which users set themselves with PATCH /me. */
export class UserPicture1764001200000 implements MigrationInterface {
  name = 'UserPicture1764001200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN picture text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN picture`);
  }
}
