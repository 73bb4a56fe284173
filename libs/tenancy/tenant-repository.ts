import type {
  DataSource,
  DeepPartial,
  EntityManager,
  EntityTarget,
  FindManyOptions,
  FindOptionsOrder,
  FindOptionsWhere,
  ObjectLiteral,
  Repository,
  SelectQueryBuilder,
} from 'typeorm';

/** `SELECT some_function($1, ...)`: a function scoped by its first argument, the tenant. */
const TENANT_FUNCTION_CALL = /^\s*SELECT\s+[a-z_][a-z0-9_]*\(\s*\$1\s*[,)]/i;

/** `INSERT INTO t (tenant_id, ...) VALUES ($1, ...)`: one row, written for the tenant in $1. */
const TENANT_ROW_INSERT =
  /^\s*INSERT\s+INTO\s+[a-z_][a-z0-9_]*\s*\(\s*tenant_id\s*,[^)]*\)\s*VALUES\s*\(\s*\$1\s*[,)]/i;

/** Whether a statement is confined to the tenant passed as `$1`. */
export function isTenantScopedSql(text: string): boolean {
  return (
    /\btenant_id\s*=\s*\$1\b/.test(text) ||
    TENANT_FUNCTION_CALL.test(text) ||
    TENANT_ROW_INSERT.test(text)
  );
}

/** Every tenant-owned entity has this column; the repository writes and filters on it. */
export interface TenantOwned {
  tenant_id: string | null;
}

type Where<T> = FindOptionsWhere<T> | FindOptionsWhere<T>[];

/**
 * A repository that cannot forget the tenant: every read adds `tenant_id = :tenant` to each
 * branch of its where clause and every write sets it. Modules get one of these instead of a
 * raw TypeORM repository for tenant data. Pass `manager` to take part in a transaction that
 * the service opened.
 */
export class TenantRepository<T extends TenantOwned & ObjectLiteral> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly target: EntityTarget<T>,
  ) {}

  private repo(manager?: EntityManager): Repository<T> {
    return (manager ?? this.dataSource.manager).getRepository(this.target);
  }

  private scope(tenantId: string, where?: Where<T>): Where<T> {
    if (!tenantId) throw new Error('tenant id is required for a tenant-owned query');
    const t = { tenant_id: tenantId } as FindOptionsWhere<T>;
    if (!where) return t;
    if (Array.isArray(where)) return where.map((w) => ({ ...w, ...t }));
    return { ...where, ...t };
  }

  findOne(tenantId: string, where: Where<T>, manager?: EntityManager): Promise<T | null> {
    return this.repo(manager).findOne({ where: this.scope(tenantId, where) });
  }

  find(
    tenantId: string,
    options: Omit<FindManyOptions<T>, 'where'> & { where?: Where<T> } = {},
    manager?: EntityManager,
  ): Promise<T[]> {
    return this.repo(manager).find({ ...options, where: this.scope(tenantId, options.where) });
  }

  findAndCount(
    tenantId: string,
    options: Omit<FindManyOptions<T>, 'where'> & { where?: Where<T>; order?: FindOptionsOrder<T> },
    manager?: EntityManager,
  ): Promise<[T[], number]> {
    return this.repo(manager).findAndCount({
      ...options,
      where: this.scope(tenantId, options.where),
    });
  }

  count(tenantId: string, where?: Where<T>, manager?: EntityManager): Promise<number> {
    return this.repo(manager).count({ where: this.scope(tenantId, where) });
  }

  create(tenantId: string, values: DeepPartial<T>): T {
    return this.repo().create({ ...values, tenant_id: tenantId } as DeepPartial<T>);
  }

  /**
   * A plain INSERT: a row with the same key is a unique violation (409 at the edge), never an
   * update of it, as `save` would do once a caller chooses the key (the seed's user_id).
   */
  async insert(tenantId: string, values: DeepPartial<T>, manager?: EntityManager): Promise<T> {
    const entity = this.create(tenantId, values);
    await this.repo(manager).insert(entity as never);
    return entity;
  }

  /** Saves an entity loaded through this repository; refuses one of another tenant. */
  save(tenantId: string, entity: T, manager?: EntityManager): Promise<T> {
    if (entity.tenant_id !== tenantId) throw new Error('entity belongs to another tenant');
    return this.repo(manager).save(entity);
  }

  async update(
    tenantId: string,
    where: FindOptionsWhere<T>,
    values: DeepPartial<T>,
    manager?: EntityManager,
  ): Promise<number> {
    const { tenant_id: _ignored, ...rest } = values as DeepPartial<T> & { tenant_id?: unknown };
    const result = await this.repo(manager).update(
      this.scope(tenantId, where) as FindOptionsWhere<T>,
      rest as never,
    );
    return result.affected ?? 0;
  }

  async delete(
    tenantId: string,
    where: FindOptionsWhere<T>,
    manager?: EntityManager,
  ): Promise<number> {
    const result = await this.repo(manager).delete(
      this.scope(tenantId, where) as FindOptionsWhere<T>,
    );
    return result.affected ?? 0;
  }

  /** Multi-row insert; rows that hit a unique constraint are skipped. Answers the inserted rows' `returning` columns. */
  async insertIgnoringConflicts(
    tenantId: string,
    rows: DeepPartial<T>[],
    returning: Array<keyof T & string>,
    manager?: EntityManager,
  ): Promise<Array<Partial<T>>> {
    if (!rows.length) return [];
    const values = rows.map((r) => ({ ...r, tenant_id: tenantId }));
    const res = await this.repo(manager)
      .createQueryBuilder()
      .insert()
      .values(values as never)
      .orIgnore()
      .returning(returning)
      .execute();
    return res.raw as Array<Partial<T>>;
  }

  /** Deletes the tenant's rows matching `where`; answers the deleted rows' `returning` columns. */
  async deleteReturning(
    tenantId: string,
    where: FindOptionsWhere<T>,
    returning: Array<keyof T & string>,
    manager?: EntityManager,
  ): Promise<Array<Partial<T>>> {
    const res = await this.repo(manager)
      .createQueryBuilder()
      .delete()
      .where(this.scope(tenantId, where) as FindOptionsWhere<T>)
      .returning(returning)
      .execute();
    return res.raw as Array<Partial<T>>;
  }

  /**
   * Hot-path SQL without the query builder: a named prepared statement on the PostgreSQL pool
   * (parsed once per connection), or a plain query on the embedded database. The statement must
   * filter on `tenant_id = $1`, be one call of a function that takes the tenant as its first
   * argument (`SELECT f($1, ...)`), or insert one row whose first column is `tenant_id` = `$1`;
   * the tenant is always the first parameter. With `manager` it runs inside that transaction.
   */
  async sql<R = Record<string, unknown>>(
    tenantId: string,
    name: string,
    text: string,
    params: unknown[] = [],
    manager?: EntityManager,
  ): Promise<R[]> {
    if (!tenantId) throw new Error('tenant id is required for a tenant-owned query');
    if (!isTenantScopedSql(text))
      throw new Error(`statement ${name} does not filter on tenant_id = $1`);
    const values = [tenantId, ...params];
    if (manager) return manager.query(text, values);
    const pool = (this.dataSource.driver as { master?: { query?: unknown; totalCount?: number } })
      .master;
    if (pool && typeof pool.query === 'function' && typeof pool.totalCount === 'number') {
      const res = await (pool as unknown as { query: (q: object) => Promise<{ rows: R[] }> }).query(
        { name, text, values },
      );
      return res.rows;
    }
    return this.dataSource.query(text, values);
  }

  /** A query builder already restricted to the tenant, for the queries find options cannot say. */
  query(tenantId: string, alias: string, manager?: EntityManager): SelectQueryBuilder<T> {
    if (!tenantId) throw new Error('tenant id is required for a tenant-owned query');
    return this.repo(manager)
      .createQueryBuilder(alias)
      .where(`${alias}.tenant_id = :__tenant`, { __tenant: tenantId });
  }
}
