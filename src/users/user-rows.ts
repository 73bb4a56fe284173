import { Injectable } from '@nestjs/common';
import { In, type DeepPartial, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { PROVISIONING_COLUMNS, UserEntity } from './user.entity.js';

/**
 * The users table for the modules that provision users or relate to them (SCIM, groups): the
 * users module owns the table's one mapping and hands out tenant-scoped access to it here, so no
 * other module maps or registers `users` itself. Every call takes part in the caller's
 * transaction when given its manager, so callers keep their round trips.
 */
@Injectable()
export class UserRows {
  constructor(
    @InjectTenantRepository(UserEntity) private readonly users: TenantRepository<UserEntity>,
  ) {}

  /** The tenant's users, with the directory's columns (no provisioning ones). */
  query(tenantId: string, alias: string, m?: EntityManager): SelectQueryBuilder<UserEntity> {
    return this.users.query(tenantId, alias, m);
  }

  /** The tenant's users with every column, the provisioning ones (`scim`, `manager_id`, `version`) too. */
  provisioned(tenantId: string, alias: string, m?: EntityManager): SelectQueryBuilder<UserEntity> {
    return this.query(tenantId, alias, m).addSelect(
      PROVISIONING_COLUMNS.map((c) => `${alias}.${c}`),
    );
  }

  /** One user with every column, row-locked (FOR UPDATE) inside `m` when `lock`; null when there is none. */
  load(
    tenantId: string,
    userId: string,
    m?: EntityManager,
    lock = false,
  ): Promise<UserEntity | null> {
    const qb = this.provisioned(tenantId, 'u', m).andWhere('u.user_id = :id', { id: userId });
    if (lock) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /** Which of these ids are users of the tenant (one statement). */
  async existingIds(tenantId: string, ids: string[], m?: EntityManager): Promise<Set<string>> {
    const unique = [...new Set(ids)];
    if (!unique.length) return new Set();
    const found = await this.users.find(
      tenantId,
      { where: { user_id: In(unique) }, select: { user_id: true, tenant_id: true } },
      m,
    );
    return new Set(found.map((f) => f.user_id));
  }

  /** The display name (else the username) of each of these users of the tenant. */
  async displayNames(tenantId: string, ids: string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    if (!ids.length) return names;
    const found = await this.users.find(tenantId, {
      where: { user_id: In(ids) },
      select: { user_id: true, tenant_id: true, display_name: true, username: true },
    });
    for (const u of found) names.set(u.user_id, u.display_name ?? u.username);
    return names;
  }

  /** A new, not yet stored row of the tenant. */
  create(tenantId: string, values: DeepPartial<UserEntity>): UserEntity {
    return this.users.create(tenantId, values);
  }

  /** Multi-row insert; rows hitting a unique key are skipped. Answers the inserted rows' ids. */
  insertIgnoringConflicts(
    tenantId: string,
    rows: UserEntity[],
    m?: EntityManager,
  ): Promise<Array<Partial<UserEntity>>> {
    return this.users.insertIgnoringConflicts(tenantId, rows, ['user_id'], m);
  }

  /** Inserts or overwrites rows by user id (an import written twice converges). */
  upsert(tenantId: string, rows: Array<Partial<UserEntity>>, m?: EntityManager): Promise<void> {
    return this.users.upsert(tenantId, rows as DeepPartial<UserEntity>[], ['user_id'], m);
  }

  update(
    tenantId: string,
    userId: string,
    values: DeepPartial<UserEntity>,
    m?: EntityManager,
  ): Promise<number> {
    return this.users.update(tenantId, { user_id: userId }, values, m);
  }

  delete(tenantId: string, userId: string, m?: EntityManager): Promise<number> {
    return this.users.delete(tenantId, { user_id: userId }, m);
  }
}
