import { Injectable } from '@nestjs/common';
import type { DeepPartial, EntityManager, SelectQueryBuilder } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { GroupEntity } from './group.entity.js';

/**
 * The groups table for inbound provisioning (SCIM): the groups module owns the table's one
 * mapping and hands out tenant-scoped access to it here, with the `version` column that the
 * management API does not read. Calls take part in the caller's transaction when given `m`.
 */
@Injectable()
export class GroupRows {
  constructor(
    @InjectTenantRepository(GroupEntity) private readonly groups: TenantRepository<GroupEntity>,
  ) {}

  /** The tenant's groups with every column, `version` too. */
  provisioned(tenantId: string, alias: string, m?: EntityManager): SelectQueryBuilder<GroupEntity> {
    return this.groups.query(tenantId, alias, m).addSelect(`${alias}.version`);
  }

  /** One group with every column, row-locked (FOR UPDATE) inside `m` when `lock`; null when there is none. */
  load(
    tenantId: string,
    groupId: string,
    m?: EntityManager,
    lock = false,
  ): Promise<GroupEntity | null> {
    const qb = this.provisioned(tenantId, 'g', m).andWhere('g.group_id = :id', { id: groupId });
    if (lock) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  insert(
    tenantId: string,
    values: DeepPartial<GroupEntity>,
    m?: EntityManager,
  ): Promise<GroupEntity> {
    return this.groups.insert(tenantId, values, m);
  }

  update(
    tenantId: string,
    groupId: string,
    values: DeepPartial<GroupEntity>,
    m?: EntityManager,
  ): Promise<number> {
    return this.groups.update(tenantId, { group_id: groupId }, values, m);
  }

  delete(tenantId: string, groupId: string, m?: EntityManager): Promise<number> {
    return this.groups.delete(tenantId, { group_id: groupId }, m);
  }
}
