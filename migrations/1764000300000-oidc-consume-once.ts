import type { MigrationInterface, QueryRunner } from 'typeorm';

/** oidc_payloads_apply with the operations of migration 1763900008000 and `extra` added. */
function applyFunction(extra: string): string {
  return `
      CREATE OR REPLACE FUNCTION oidc_payloads_apply(p_tenant text, p_ops jsonb) RETURNS void
      LANGUAGE plpgsql AS $fn$
      DECLARE
        op jsonb;
      BEGIN
        FOR op IN SELECT value FROM jsonb_array_elements(p_ops) LOOP
          CASE op->>'op'
            WHEN 'upsert' THEN
              INSERT INTO oidc_payloads
                (tenant_id, model, id, payload, grant_id, user_code, uid, expires_at)
              VALUES (p_tenant, op->>'model', op->>'id', op->'payload', op->>'grant_id',
                      op->>'user_code', op->>'uid', (op->>'expires_at')::timestamptz)
              ON CONFLICT (tenant_id, model, id) DO UPDATE SET payload = EXCLUDED.payload,
                grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
                uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at;
            WHEN 'consume' THEN
              UPDATE oidc_payloads SET consumed_at = now()
              WHERE tenant_id = p_tenant AND model = op->>'model' AND id = op->>'id';${extra}
            WHEN 'destroy' THEN
              DELETE FROM oidc_payloads
              WHERE tenant_id = p_tenant AND model = op->>'model' AND id = op->>'id';
            WHEN 'revoke_grant' THEN
              DELETE FROM oidc_payloads
              WHERE tenant_id = p_tenant AND model = op->>'model' AND grant_id = op->>'grant_id';
            ELSE
              RAISE EXCEPTION 'unknown oidc_payloads operation %', op->>'op';
          END CASE;
        END LOOP;
      END
      $fn$`;
}

/**
 * `consume_once`: consumes a code, refresh token or device code only if nobody did before
 * (`consumed_at IS NULL`), else raises SQLSTATE IDP01 and the whole list (the tokens the
 * request was about to hand out) is rolled back. Of concurrent redemptions exactly one commits:
 * the others wait on the row lock, then find it consumed (or gone) and fail. Decision note 0012.
 */
export class OidcConsumeOnce1764000300000 implements MigrationInterface {
  name = 'OidcConsumeOnce1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      applyFunction(`
            WHEN 'consume_once' THEN
              UPDATE oidc_payloads SET consumed_at = now()
              WHERE tenant_id = p_tenant AND model = op->>'model' AND id = op->>'id'
                AND consumed_at IS NULL;
              IF NOT FOUND THEN
                RAISE EXCEPTION 'oidc artefact already consumed'
                  USING ERRCODE = 'IDP01',
                        DETAIL = json_build_object('model', op->>'model', 'id', op->>'id')::text;
              END IF;`),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(applyFunction(''));
  }
}
