import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Forward-auth (docs/decisions/0020-forward-auth.md): the apps a tenant protects behind a
 * reverse proxy, and the revocations every replica applies to forward-auth cookies. The
 * revocation feed is read across tenants by a poll (by time), hence its one index that does
 * not lead with tenant_id; rows live only as long as a cookie could.
 */
export class ForwardAuth1764001000000 implements MigrationInterface {
  name = 'ForwardAuth1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE protected_apps (
        tenant_id         text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        app_id            uuid NOT NULL,
        name              text NOT NULL,
        hosts             text[] NOT NULL,
        path_prefix       text NOT NULL DEFAULT '/',
        allowed_group_ids uuid[] NOT NULL DEFAULT '{}',
        headers           jsonb NOT NULL DEFAULT '{}'::jsonb,
        jwt_header        boolean NOT NULL DEFAULT false,
        session_lifetime  integer NOT NULL,
        idle_timeout      integer,
        require_2fa       boolean NOT NULL DEFAULT false,
        cookie_domain     text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT protected_apps_pkey PRIMARY KEY (tenant_id, app_id)
      )`);
    await q.query(
      `CREATE INDEX protected_apps_created_idx ON protected_apps (tenant_id, created_at, app_id)`,
    );
    await q.query(`
      CREATE TABLE forward_auth_revocations (
        tenant_id     text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
        revocation_id uuid NOT NULL,
        kind          text NOT NULL CHECK (kind IN ('session', 'account', 'apps')),
        subject       text NOT NULL,
        revoked_at    timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        CONSTRAINT forward_auth_revocations_pkey PRIMARY KEY (tenant_id, revocation_id)
      )`);
    await q.query(
      `CREATE INDEX forward_auth_revocations_time_idx ON forward_auth_revocations (revoked_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE forward_auth_revocations');
    await q.query('DROP TABLE protected_apps');
  }
}
