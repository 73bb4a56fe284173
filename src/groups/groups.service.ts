import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, Not, type DataSource, type EntityManager } from 'typeorm';
import {
  InjectTenantRepository,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { badRequest, notFound } from '../common/problem.js';
import { ClientsService } from '../clients/clients.service.js';
import { UserRows } from '../users/user-rows.js';
import type { GroupDto, GroupListQuery, ReplaceGroupDto, UpdateGroupDto } from './dto/group.dto.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './group.entity.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';

export function toGroupDto(g: GroupEntity): GroupDto {
  return {
    group_id: g.group_id,
    tenant_id: g.tenant_id,
    name: g.name,
    display_name: g.display_name,
    external_id: g.external_id,
    created_at: g.created_at.toISOString(),
    updated_at: g.updated_at.toISOString(),
  };
}

@Injectable()
export class GroupsService {
  constructor(
    @InjectTenantRepository(GroupEntity) private readonly groups: TenantRepository<GroupEntity>,
    @InjectTenantRepository(GroupMemberEntity)
    private readonly members: TenantRepository<GroupMemberEntity>,
    @InjectTenantRepository(GroupAllowedClientEntity)
    private readonly allowed: TenantRepository<GroupAllowedClientEntity>,
    private readonly users: UserRows,
    private readonly clients: ClientsService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tenantEvents: TenantEvents,
  ) {}

  // ---- reads used by OIDC (claims, group-restricted clients)

  async groupsOfUser(tenantId: string, userId: string): Promise<GroupEntity[]> {
    return this.groups
      .query(tenantId, 'g')
      .innerJoin(GroupMemberEntity, 'm', 'm.tenant_id = g.tenant_id AND m.group_id = g.group_id')
      .andWhere('m.user_id = :userId', { userId })
      .orderBy('g.name')
      .getMany();
  }

  /** The groups of a user of the tenant; 404 when there is no such user. */
  async groupDtosOfUser(tenantId: string, userId: string): Promise<GroupDto[]> {
    if (!UUID.test(userId) || !(await this.users.existingIds(tenantId, [userId])).size)
      throw notFound('User');
    return (await this.groupsOfUser(tenantId, userId)).map(toGroupDto);
  }

  async allowedGroupIdsForClient(tenantId: string, clientId: string): Promise<string[]> {
    const rows = await this.allowed.find(tenantId, { where: { client_id: clientId } });
    return rows.map((r) => r.group_id);
  }

  // ---- management API

  private async load(
    tenantId: string,
    groupId: string,
    manager?: EntityManager,
  ): Promise<GroupEntity> {
    const g = UUID.test(groupId)
      ? await this.groups.findOne(tenantId, { group_id: groupId }, manager)
      : null;
    if (!g) throw notFound('Group');
    return g;
  }

  async get(tenantId: string, groupId: string): Promise<GroupDto> {
    return toGroupDto(await this.load(tenantId, groupId));
  }

  async create(tenantId: string, dto: ReplaceGroupDto): Promise<GroupDto> {
    const now = new Date();
    const g = await this.groups.insert(tenantId, {
      group_id: randomUUID(),
      name: dto.name,
      display_name: dto.display_name ?? null,
      external_id: dto.external_id ?? null,
      created_at: now,
      updated_at: now,
    });
    return toGroupDto(g);
  }

  async list(tenantId: string, q: GroupListQuery): Promise<Page<GroupDto>> {
    const qb = this.groups.query(tenantId, 'g');
    if (q.name) {
      qb.andWhere(`lower(g.name) LIKE :n ESCAPE '\\'`, {
        n: q.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%',
      });
    }
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    qb.orderBy(q.sort_by === 'name' ? 'lower(g.name)' : 'g.created_at', dir).addOrderBy(
      'g.group_id',
      dir,
    );
    const [rows, total] = await qb.limit(q.limit).offset(q.offset).getManyAndCount();
    return page(rows.map(toGroupDto), total, q);
  }

  async replace(tenantId: string, groupId: string, dto: ReplaceGroupDto): Promise<GroupDto> {
    return this.write(tenantId, groupId, {
      name: dto.name,
      display_name: dto.display_name ?? null,
      external_id: dto.external_id ?? null,
    });
  }

  async update(tenantId: string, groupId: string, dto: UpdateGroupDto): Promise<GroupDto> {
    const changes: Partial<GroupEntity> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.display_name !== undefined) changes.display_name = dto.display_name;
    if (dto.external_id !== undefined) changes.external_id = dto.external_id;
    return this.write(tenantId, groupId, changes);
  }

  private async write(
    tenantId: string,
    groupId: string,
    changes: Partial<GroupEntity>,
  ): Promise<GroupDto> {
    const g = await this.load(tenantId, groupId);
    Object.assign(g, changes, { updated_at: new Date() });
    await this.groups.save(tenantId, g);
    this.tenantEvents.emit({ type: 'changed', tenantId });
    return toGroupDto(g);
  }

  async remove(tenantId: string, groupId: string): Promise<void> {
    if (!UUID.test(groupId) || (await this.groups.delete(tenantId, { group_id: groupId })) === 0)
      throw notFound('Group');
    this.tenantEvents.emit({ type: 'changed', tenantId });
  }

  // ---- members

  async listMembers(tenantId: string, groupId: string, q: ListQuery) {
    await this.load(tenantId, groupId);
    const qb = this.users
      .query(tenantId, 'u')
      .innerJoin(GroupMemberEntity, 'm', 'm.tenant_id = u.tenant_id AND m.user_id = u.user_id')
      .andWhere('m.group_id = :groupId', { groupId })
      .orderBy('lower(u.username)', q.sort_direction === -1 ? 'DESC' : 'ASC')
      .addOrderBy('u.user_id')
      .limit(q.limit)
      .offset(q.offset);
    const [rows, total] = await qb.getManyAndCount();
    return { rows, page: (data: unknown[]) => page(data, total, q) };
  }

  private async assertUsersExist(tenantId: string, userIds: string[], manager: EntityManager) {
    if (!userIds.length) return;
    const known = await this.users.existingIds(tenantId, userIds, manager);
    const unknown = userIds.filter((id) => !known.has(id));
    if (unknown.length) {
      throw badRequest(
        'Some users do not exist in this tenant',
        unknown.map((id) => ({ field: 'user_ids', message: `unknown user ${id}` })),
      );
    }
  }

  /** Makes the member list exactly `userIds`, in one transaction. */
  async setMembers(
    tenantId: string,
    groupId: string,
    userIds: string[],
  ): Promise<{ user_ids: string[] }> {
    await this.dataSource.transaction(async (m) => {
      await this.load(tenantId, groupId, m);
      await this.assertUsersExist(tenantId, userIds, m);
      await this.members.delete(
        tenantId,
        { group_id: groupId, ...(userIds.length ? { user_id: Not(In(userIds)) } : {}) },
        m,
      );
      await this.members.insertIgnoringConflicts(
        tenantId,
        userIds.map((user_id) => ({ group_id: groupId, user_id, created_at: new Date() })),
        ['user_id'],
        m,
      );
    });
    return { user_ids: userIds };
  }

  async addMember(tenantId: string, groupId: string, userId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await this.load(tenantId, groupId, m);
      if (!UUID.test(userId) || !(await this.users.existingIds(tenantId, [userId], m)).size)
        throw notFound('User');
      await this.members.insertIgnoringConflicts(
        tenantId,
        [{ group_id: groupId, user_id: userId, created_at: new Date() }],
        ['user_id'],
        m,
      );
    });
  }

  async removeMember(tenantId: string, groupId: string, userId: string): Promise<void> {
    await this.load(tenantId, groupId);
    if (
      !UUID.test(userId) ||
      (await this.members.delete(tenantId, { group_id: groupId, user_id: userId })) === 0
    ) {
      throw notFound('Membership');
    }
  }

  // ---- allowed clients (group-restricted apps)

  async getAllowedClients(tenantId: string, groupId: string): Promise<{ client_ids: string[] }> {
    await this.load(tenantId, groupId);
    const rows = await this.allowed.find(tenantId, {
      where: { group_id: groupId },
      order: { client_id: 'ASC' },
    });
    return { client_ids: rows.map((r) => r.client_id) };
  }

  async setAllowedClients(
    tenantId: string,
    groupId: string,
    clientIds: string[],
  ): Promise<{ client_ids: string[] }> {
    await this.dataSource.transaction(async (m) => {
      await this.load(tenantId, groupId, m);
      await this.assertClientsExist(tenantId, clientIds, m);
      await this.allowed.delete(tenantId, { group_id: groupId }, m);
      await this.allowed.insertIgnoringConflicts(
        tenantId,
        clientIds.map((client_id) => ({ group_id: groupId, client_id })),
        ['client_id'],
        m,
      );
    });
    this.tenantEvents.emit({ type: 'changed', tenantId });
    return { client_ids: clientIds.toSorted() };
  }

  private async assertClientsExist(tenantId: string, clientIds: string[], m: EntityManager) {
    if (!clientIds.length) return;
    const known = await this.clients.existingIds(tenantId, clientIds, m);
    const unknown = clientIds.filter((id) => !known.has(id));
    if (unknown.length) {
      throw badRequest(
        'Some clients do not exist in this tenant',
        unknown.map((id) => ({ field: 'client_ids', message: `unknown client ${id}` })),
      );
    }
  }
}
