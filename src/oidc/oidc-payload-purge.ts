import type { DataSource } from 'typeorm';
import { crossTenant } from '../../libs/tenancy/index.js';

const CLEANUP_BATCH = 1000;
const CLEANUP_TENANT_PAGE = 500;

/**
 * Deletes expired oidc_payloads rows of every tenant in bounded batches, a page of tenants at a
 * time so each statement walks the (tenant_id, expires_at) index. A maintenance job across
 * tenants, hence cross-tenant SQL. Never throws (the next run retries); answers how many went.
 */
export async function purgeExpiredPayloads(
  dataSource: DataSource,
  logger: { warn(obj: object, msg: string): void },
): Promise<number> {
  let total = 0;
  let after = '';
  const maintenance = crossTenant(dataSource);
  try {
    for (;;) {
      const ids = await maintenance.tenantIds(after, CLEANUP_TENANT_PAGE);
      if (!ids.length) break;
      for (;;) {
        const result = await maintenance.sql<[unknown, number]>(
          'oidc_payloads_purge_expired',
          `DELETE FROM oidc_payloads WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM oidc_payloads
             WHERE tenant_id = ANY($1) AND expires_at < now() LIMIT ${CLEANUP_BATCH}))`,
          [ids],
        );
        const deleted = Number(result[1] ?? 0);
        total += deleted;
        if (deleted < CLEANUP_BATCH) break;
      }
      after = ids[ids.length - 1];
    }
  } catch (err) {
    logger.warn({ err }, 'expired OIDC artefact cleanup failed; retried on the next run');
  }
  return total;
}
