import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors and proofs of possession: TOTP secrets and recovery codes, passkeys and their
 * one-time WebAuthn challenges, and the single-use tokens mailed by the email flows. Every row
 * belongs to a user of a tenant and goes with them (ON DELETE CASCADE).
 */
export class StrongAuth1763900006000 implements MigrationInterface {
  name = 'StrongAuth1763900006000';

  async up(q: QueryRunner): Promise<void> {
    // last_used_step: the highest TOTP time step accepted, so a code cannot be replayed.
    // failed_attempts/failed_at: consecutive guesses, so six digits cannot be brute-forced.
    await q.query(`
      CREATE TABLE user_totp (
        tenant_id       text NOT NULL,
        user_id         uuid NOT NULL,
        secret_sealed   text NOT NULL,
        is_enabled      boolean NOT NULL DEFAULT false,
        last_used_step  bigint,
        failed_attempts integer NOT NULL DEFAULT 0,
        failed_at       timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        enabled_at      timestamptz,
        CONSTRAINT user_totp_pkey PRIMARY KEY (tenant_id, user_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE recovery_codes (
        tenant_id  text NOT NULL,
        user_id    uuid NOT NULL,
        code_hash  text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at    timestamptz,
        CONSTRAINT recovery_codes_pkey PRIMARY KEY (tenant_id, user_id, code_hash),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE passkey_credentials (
        tenant_id     text NOT NULL,
        passkey_id    uuid NOT NULL,
        credential_id text NOT NULL,
        user_id       uuid NOT NULL,
        public_key    bytea NOT NULL,
        counter       bigint NOT NULL DEFAULT 0,
        transports    text[] NOT NULL DEFAULT '{}',
        backed_up     boolean NOT NULL DEFAULT false,
        device_type   text NOT NULL,
        aaguid        text,
        name          text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_used_at  timestamptz,
        CONSTRAINT passkey_credentials_pkey PRIMARY KEY (tenant_id, passkey_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX passkey_credentials_tenant_credential_key ON passkey_credentials (tenant_id, credential_id)`,
    );
    await q.query(
      `CREATE INDEX passkey_credentials_user_idx ON passkey_credentials (tenant_id, user_id, created_at)`,
    );

    await q.query(`
      CREATE TABLE webauthn_challenges (
        tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        challenge_id uuid NOT NULL,
        challenge    text NOT NULL,
        user_id      uuid,
        purpose      text NOT NULL CHECK (purpose IN ('registration', 'authentication')),
        expires_at   timestamptz NOT NULL,
        consumed_at  timestamptz,
        CONSTRAINT webauthn_challenges_pkey PRIMARY KEY (tenant_id, challenge_id)
      )`);
    await q.query(
      `CREATE INDEX webauthn_challenges_expires_idx ON webauthn_challenges (tenant_id, expires_at)`,
    );

    // Link tokens are found by their hash; sign-in codes (6 digits, so hashes may repeat across
    // users) by the user, hence a surrogate key and two lookup indexes.
    await q.query(`
      CREATE TABLE email_tokens (
        tenant_id   text NOT NULL,
        token_id    uuid NOT NULL,
        token_hash  text NOT NULL,
        user_id     uuid NOT NULL,
        purpose     text NOT NULL CHECK (purpose IN ('verify', 'reset', 'change', 'login')),
        new_email   text,
        attempts    integer NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        consumed_at timestamptz,
        CONSTRAINT email_tokens_pkey PRIMARY KEY (tenant_id, token_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX email_tokens_hash_idx ON email_tokens (tenant_id, token_hash)`);
    await q.query(
      `CREATE INDEX email_tokens_user_idx ON email_tokens (tenant_id, user_id, purpose, created_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE email_tokens, webauthn_challenges, passkey_credentials, recovery_codes, user_totp`,
    );
  }
}
