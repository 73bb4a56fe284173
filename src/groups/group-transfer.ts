import { Injectable } from '@nestjs/common';
import {
  dateOf,
  field,
  forEachPage,
  InjectTenantRepository,
  optional,
  TenantRepository,
  TransferFormatError,
  type TenantTransferSection,
  type TransferExportContext,
  type TransferImportContext,
  type TransferRecord,
} from '../../libs/tenancy/index.js';
import { isUuid } from '../common/ids.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './group.entity.js';

/** Groups, then memberships and allowed clients (after users and clients, which they name). */
@Injectable()
export class GroupTransfer implements TenantTransferSection {
  readonly order = 70;
  readonly types = ['group', 'group_member', 'group_allowed_client'] as const;

  constructor(
    @InjectTenantRepository(GroupEntity) private readonly groups: TenantRepository<GroupEntity>,
    @InjectTenantRepository(GroupMemberEntity)
    private readonly members: TenantRepository<GroupMemberEntity>,
    @InjectTenantRepository(GroupAllowedClientEntity)
    private readonly allowed: TenantRepository<GroupAllowedClientEntity>,
  ) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    const t = ctx.tenantId;
    const m = ctx.manager;
    await forEachPage(
      (skip, take) => this.groups.find(t, { order: { group_id: 'ASC' }, skip, take }, m),
      async (rows) => {
        for (const g of rows) {
          await ctx.emit({
            type: 'group',
            group_id: g.group_id,
            name: g.name,
            display_name: g.display_name,
            external_id: g.external_id,
            created_at: g.created_at.toISOString(),
            updated_at: g.updated_at.toISOString(),
          });
        }
      },
    );
    await forEachPage(
      (skip, take) =>
        this.members.find(t, { order: { group_id: 'ASC', user_id: 'ASC' }, skip, take }, m),
      async (rows) => {
        for (const r of rows) {
          await ctx.emit({
            type: 'group_member',
            group_id: r.group_id,
            user_id: r.user_id,
            created_at: r.created_at.toISOString(),
          });
        }
      },
    );
    await forEachPage(
      (skip, take) =>
        this.allowed.find(t, { order: { group_id: 'ASC', client_id: 'ASC' }, skip, take }, m),
      async (rows) => {
        for (const r of rows) {
          await ctx.emit({
            type: 'group_allowed_client',
            group_id: r.group_id,
            client_id: r.client_id,
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]) {
    for (const r of records) {
      if (!isUuid(r.group_id))
        throw new TransferFormatError(`${type} record: group_id is not a UUID`);
    }
    const now = new Date();
    if (type === 'group') {
      const rows = records.map((r) => ({
        group_id: field(r, 'group_id'),
        name: field(r, 'name'),
        display_name: optional(r, 'display_name'),
        external_id: optional(r, 'external_id'),
        created_at: dateOf(r, 'created_at') ?? now,
        updated_at: dateOf(r, 'updated_at') ?? now,
      }));
      await this.groups.upsert(ctx.tenantId, rows, ['group_id'], ctx.manager);
      ctx.count('groups', rows.length);
    } else if (type === 'group_member') {
      const rows = records.map((r) => ({
        group_id: field(r, 'group_id'),
        user_id: field(r, 'user_id'),
        created_at: dateOf(r, 'created_at') ?? now,
      }));
      await this.members.upsert(ctx.tenantId, rows, ['group_id', 'user_id'], ctx.manager);
      ctx.count('group_members', rows.length);
    } else {
      const rows = records.map((r) => ({
        group_id: field(r, 'group_id'),
        client_id: field(r, 'client_id'),
      }));
      await this.allowed.upsert(ctx.tenantId, rows, ['group_id', 'client_id'], ctx.manager);
      ctx.count('group_allowed_clients', rows.length);
    }
  }
}
