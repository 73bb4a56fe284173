import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Logout propagation per client: OpenID Connect Back-Channel Logout (a server endpoint that
 * receives logout tokens) and whether front- and back-channel notices carry the session id.
 * The front-channel URI itself is the existing client_logout_uri column (decision note 0026).
 */
export class ClientLogoutChannels1764001600000 implements MigrationInterface {
  name = 'ClientLogoutChannels1764001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients ADD COLUMN backchannel_logout_uri text`);
    await q.query(
      `ALTER TABLE clients ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required boolean NOT NULL DEFAULT false`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN backchannel_logout_uri`);
    await q.query(`ALTER TABLE clients DROP COLUMN backchannel_logout_session_required`);
    await q.query(`ALTER TABLE clients DROP COLUMN frontchannel_logout_session_required`);
  }
}
