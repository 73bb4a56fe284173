import { Injectable } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { UserRows } from '../users/user-rows.js';
import { GroupEntity, GroupMemberEntity } from './group.entity.js';

/** A membership with the display name of its other side (the group's or the user's). */
export interface Membership {
  group_id: string;
  user_id: string;
  display: string;
}

/**
 * Group memberships for other modules (SCIM): one statement per call, taking part in the
 * caller's transaction when given one, so provisioning keeps its round trips.
 */
@Injectable()
export class GroupMembersService {
  constructor(
    @InjectTenantRepository(GroupMemberEntity)
    private readonly members: TenantRepository<GroupMemberEntity>,
    private readonly users: UserRows,
  ) {}

  /** The groups of these users, oldest group first; `display` is the group's display name. */
  groupsOfUsers(tenantId: string, userIds: string[], m?: EntityManager): Promise<Membership[]> {
    return this.members
      .query(tenantId, 'gm', m)
      .innerJoin(GroupEntity, 'g', 'g.tenant_id = gm.tenant_id AND g.group_id = gm.group_id')
      .andWhere('gm.user_id IN (:...ids)', { ids: userIds })
      .select('gm.user_id', 'user_id')
      .addSelect('gm.group_id', 'group_id')
      .addSelect('coalesce(g.display_name, g.name)', 'display')
      .orderBy('g.created_at')
      .getRawMany<Membership>();
  }

  /** The members of these groups in the order they joined; `display` is the user's name. */
  membersOfGroups(tenantId: string, groupIds: string[], m?: EntityManager): Promise<Membership[]> {
    // The users module's query of its table, joined with this module's memberships.
    return this.users
      .query(tenantId, 'u', m)
      .innerJoin(GroupMemberEntity, 'gm', 'gm.tenant_id = u.tenant_id AND gm.user_id = u.user_id')
      .andWhere('gm.group_id IN (:...ids)', { ids: groupIds })
      .select('gm.group_id', 'group_id')
      .addSelect('gm.user_id', 'user_id')
      .addSelect('coalesce(u.display_name, u.username)', 'display')
      .orderBy('gm.created_at')
      .addOrderBy('gm.user_id')
      .getRawMany<Membership>();
  }

  /** Adds users (known to exist) to a group; those already in it are left as they are. */
  async add(
    tenantId: string,
    groupId: string,
    userIds: string[],
    at: Date,
    m?: EntityManager,
  ): Promise<void> {
    await this.members.insertIgnoringConflicts(
      tenantId,
      userIds.map((user_id) => ({ group_id: groupId, user_id, created_at: at })),
      ['user_id'],
      m,
    );
  }

  /** Removes these users from a group, or every member when `userIds` is left out. */
  async remove(
    tenantId: string,
    groupId: string,
    userIds?: string[],
    m?: EntityManager,
  ): Promise<void> {
    await this.members.delete(
      tenantId,
      userIds ? { group_id: groupId, user_id: In(userIds) } : { group_id: groupId },
      m,
    );
  }
}
