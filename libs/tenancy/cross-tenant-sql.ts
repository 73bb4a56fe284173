/** Anything that runs SQL: a DataSource, an EntityManager or QueryRunner, a pg Pool or Client. */
export interface SqlRunner {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/**
 * SQL that is deliberately NOT scoped to one tenant, and the only way code outside the tenancy
 * library runs raw SQL that `TenantRepository.sql` cannot check:
 * - maintenance and retention jobs that walk every tenant (expired artefacts, retired keys);
 * - batched writes that carry many tenants' rows in one statement (`unnest` flushes);
 * - advisory locks, notifications and pings, which touch no tenant's rows.
 *
 * Every call names its statement, so a reader (and a grep for `crossTenant(`) finds each
 * cross-tenant statement. Tenant data read or written for one tenant goes through
 * `TenantRepository` (its find/update/`query` builder, or `sql`, which insists on `tenant_id = $1`).
 */
export class CrossTenantSql {
  constructor(private readonly runner: SqlRunner) {}

  /**
   * Runs `text` with `params` on `manager` when given (a transaction, a dedicated connection),
   * else on the runner this was made with. Answers what the driver answers: rows for a query,
   * `[rows, count]` for UPDATE/DELETE on PostgreSQL through TypeORM.
   */
  sql<R = Array<Record<string, unknown>>>(
    name: string,
    text: string,
    params: unknown[] = [],
    manager?: SqlRunner,
  ): Promise<R> {
    if (!name) throw new Error('a cross-tenant statement needs a name');
    return (manager ?? this.runner).query(text, params) as Promise<R>;
  }

  /** One page of tenant ids after `after` in id order, for jobs that walk every tenant. */
  async tenantIds(after = '', limit = 2_147_483_647): Promise<string[]> {
    const rows = await this.sql<Array<{ tenant_id: string }>>(
      'tenant_ids_page',
      'SELECT tenant_id FROM tenants WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2',
      [after, limit],
    );
    return rows.map((r) => r.tenant_id);
  }
}

/** The cross-tenant SQL of `runner` (see CrossTenantSql: for maintenance jobs, batched multi-tenant writes, locks). */
export const crossTenant = (runner: SqlRunner): CrossTenantSql => new CrossTenantSql(runner);
