import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Applies a list of adapter writes (upsert, consume, destroy, revoke by grant) of one tenant in
 * order, in one call: a token request writes three to four rows one after another, and each
 * statement sent on its own costs a round trip. Same semantics as the single statements the
 * store sent before (an upsert leaves consumed_at as it is).
 */
export class OidcApply1763900008000 implements MigrationInterface {
  name = 'OidcApply1763900008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION oidc_payloads_apply(p_tenant text, p_ops jsonb) RETURNS void
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
              WHERE tenant_id = p_tenant AND model = op->>'model' AND id = op->>'id';
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
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION oidc_payloads_apply(text, jsonb)`);
  }
}
