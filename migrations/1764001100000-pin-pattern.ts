import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PIN and pattern sign-in with OPAQUE (docs/decisions/0021): one registration record per user,
 * the tenant's sealed OPAQUE server setup, and the single-use challenges and sign-in nonces
 * between the calls. `pattern_size` changes meaning from "points of a 3×3 pattern" (never used)
 * to "points per side of the grid" (3–5): stored values are reset to the default, 3.
 */
export class PinPattern1764001100000 implements MigrationInterface {
  name = 'PinPattern1764001100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pin_pattern_credentials (
        tenant_id             text NOT NULL,
        user_id               uuid NOT NULL,
        credential_identifier text NOT NULL,
        registration_record   text NOT NULL,
        factors               text[] NOT NULL,
        proto_version         text NOT NULL,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        last_used_at          timestamptz,
        CONSTRAINT pin_pattern_credentials_pkey PRIMARY KEY (tenant_id, user_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE pin_pattern_server_setups (
        tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        setup_sealed text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pin_pattern_server_setups_pkey PRIMARY KEY (tenant_id)
      )`);
    await q.query(`
      CREATE TABLE pin_pattern_tickets (
        tenant_id      text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        ticket_id      text NOT NULL,
        kind           text NOT NULL CHECK (kind IN ('challenge', 'nonce')),
        user_id        uuid,
        login          text NOT NULL,
        auth_req_id    text,
        payload_sealed text NOT NULL,
        expires_at     timestamptz NOT NULL,
        CONSTRAINT pin_pattern_tickets_pkey PRIMARY KEY (tenant_id, ticket_id)
      )`);
    await q.query(
      `CREATE INDEX pin_pattern_tickets_expires_idx ON pin_pattern_tickets (tenant_id, expires_at)`,
    );
    await q.query(
      `UPDATE tenants SET settings = jsonb_set(settings, '{pattern_size}', '3') WHERE settings ? 'pattern_size'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pin_pattern_tickets`);
    await q.query(`DROP TABLE pin_pattern_server_setups`);
    await q.query(`DROP TABLE pin_pattern_credentials`);
  }
}
