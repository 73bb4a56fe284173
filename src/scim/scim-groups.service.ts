import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TenantEvents } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GROUP_NAME_PATTERN } from '../groups/dto/group.dto.js';
import { GroupRows } from '../groups/group-rows.js';
import type { GroupEntity } from '../groups/group.entity.js';
import { GroupMembersService } from '../groups/group-members.service.js';
import { UserRows } from '../users/user-rows.js';
import { coerceAttr, normalizeResource, type ScimDoc } from './scim.document.js';
import { invalidValue, mutability, scimNotFound } from './scim.errors.js';
import { type Filter, matchesElement, parseFilter } from './scim.filter.js';
import { applyPatch, type MultiValuedHook, parsePatchRequest } from './scim.patch.js';
import { project, wants, type Projection } from './scim.projection.js';
import { checkIfMatch, type ListParams } from './scim.request.js';
import {
  findAttr,
  GROUP_RESOURCE,
  GROUP_SCHEMA,
  SCHEMA_GROUP,
  SCHEMA_LIST,
} from './scim.schemas.js';
import { compileFilter, sortExpression } from './scim.sql.js';
import { etagOf } from './scim-users.mapper.js';
import { countedTotal, type ListResponse, type Written } from './scim-users.service.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';

const MEMBERS = findAttr(GROUP_SCHEMA.attributes, 'members')!;

/** Membership changes of one PATCH, applied in order as database statements. */
type MemberChange =
  | { kind: 'add'; ids: string[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'set'; ids: string[] }
  | { kind: 'removeWhere'; filter: Filter };

/**
 * The directory's group name is a slug (letters, digits, space, _ . @ -, unique case-insensitively);
 * a SCIM displayName can be anything. A displayName that fits is the name; one that does not gets
 * a readable slug plus a hash of its lowercased form, so uniqueness still follows displayName.
 */
export function groupNameFor(displayName: string): string {
  if (displayName.length <= 128 && GROUP_NAME_PATTERN.test(displayName)) return displayName;
  const slug = displayName.replace(/[^A-Za-z0-9_.@ -]+/g, '_').slice(0, 100);
  const hash = createHash('sha256').update(displayName.toLowerCase()).digest('hex').slice(0, 12);
  return `${slug}-${hash}`;
}

function memberIds(value: unknown): string[] {
  const list =
    (coerceAttr(MEMBERS, value, 'members') as Array<Record<string, unknown>> | undefined) ?? [];
  const ids: string[] = [];
  for (const m of list) {
    if (typeof m.type === 'string' && m.type.toLowerCase() !== 'user') {
      throw invalidValue('members: only users can be members (nested groups are not supported)');
    }
    if (typeof m.value !== 'string' || !m.value)
      throw invalidValue('members: each member needs a value (a user id)');
    ids.push(m.value.toLowerCase());
  }
  return [...new Set(ids)];
}

/** Filters that only say `value eq "id"` (or several, or-ed): the common remove shape, needing no read. */
function valueIds(f: Filter): string[] | undefined {
  if (f.op === 'eq' && f.attr.toLowerCase() === 'value' && typeof f.value === 'string')
    return [f.value.toLowerCase()];
  if (f.op === 'or') {
    const l = valueIds(f.left);
    const r = valueIds(f.right);
    return l && r ? [...l, ...r] : undefined;
  }
  return undefined;
}

@Injectable()
export class ScimGroupsService {
  constructor(
    private readonly groups: GroupRows,
    private readonly users: UserRows,
    private readonly members: GroupMembersService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenantEvents: TenantEvents,
  ) {}

  base(tenantId: string) {
    return `${this.config.publicUrl}/${tenantId}/scim/v2`;
  }

  private async find(
    tenantId: string,
    id: string,
    m?: EntityManager,
    lock = false,
  ): Promise<GroupEntity> {
    if (typeof id !== 'string' || !UUID.test(id)) throw scimNotFound('Group', String(id));
    const row = await this.groups.load(tenantId, id.toLowerCase(), m, lock);
    if (!row) throw scimNotFound('Group', id);
    return row;
  }

  async version(tenantId: string, id: string): Promise<number> {
    return (await this.find(tenantId, id)).version;
  }

  async get(tenantId: string, id: string, projection: Projection = {}): Promise<Written> {
    const row = await this.find(tenantId, id);
    const [resource] = await this.represent(tenantId, [row], projection);
    return { resource, id: row.group_id, version: row.version };
  }

  async represent(
    tenantId: string,
    rows: GroupEntity[],
    projection: Projection,
    m?: EntityManager,
  ): Promise<ScimDoc[]> {
    if (!rows.length) return [];
    const members = new Map<string, Array<Record<string, unknown>>>();
    const base = this.base(tenantId);
    if (wants(projection, GROUP_RESOURCE, 'members')) {
      const raw = await this.members.membersOfGroups(
        tenantId,
        rows.map((r) => r.group_id),
        m,
      );
      for (const r of raw) {
        const list = members.get(r.group_id) ?? [];
        list.push({
          value: r.user_id,
          $ref: `${base}/Users/${r.user_id}`,
          display: r.display,
          type: 'User',
        });
        members.set(r.group_id, list);
      }
    }
    return rows.map((g) => {
      const rep: ScimDoc = { schemas: [SCHEMA_GROUP], id: g.group_id };
      if (g.external_id !== null) rep.externalId = g.external_id;
      rep.displayName = g.display_name ?? g.name;
      const list = members.get(g.group_id);
      if (list?.length) rep.members = list;
      rep.meta = {
        resourceType: 'Group',
        created: g.created_at.toISOString(),
        lastModified: g.updated_at.toISOString(),
        location: `${base}/Groups/${g.group_id}`,
        version: etagOf(g.version),
      };
      return project(rep, GROUP_RESOURCE, projection);
    });
  }

  async list(tenantId: string, q: ListParams): Promise<ListResponse> {
    const qb = this.groups.provisioned(tenantId, 'g');
    if (q.filter) {
      const p = { params: {}, next: 0 };
      qb.andWhere(
        `(${compileFilter(GROUP_RESOURCE, 'Group', parseFilter(q.filter), p)})`,
        p.params,
      );
    }
    const dir = q.descending ? 'DESC' : 'ASC';
    if (q.sortBy)
      qb.orderBy(
        sortExpression(GROUP_RESOURCE, 'Group', q.sortBy),
        dir,
        q.descending ? 'NULLS FIRST' : 'NULLS LAST',
      );
    else qb.orderBy('g.created_at', 'ASC');
    qb.addOrderBy('g.group_id', q.sortBy ? dir : 'ASC');
    const countAll = () =>
      qb
        .clone()
        .select('count(*)', 'n')
        .orderBy()
        .getRawOne<{ n: string }>()
        .then((r) => Number(r?.n ?? 0));
    const page =
      q.count > 0
        ? await qb
            .clone()
            .offset(q.startIndex - 1)
            .limit(q.count)
            .getMany()
        : [];
    const totalResults = await countedTotal(q, page.length, countAll);
    const resources = await this.represent(tenantId, page, q.projection);
    return {
      schemas: [SCHEMA_LIST],
      totalResults,
      startIndex: q.startIndex,
      itemsPerPage: resources.length,
      Resources: resources,
    };
  }

  private attributes(doc: ScimDoc): Pick<GroupEntity, 'name' | 'display_name' | 'external_id'> {
    const displayName = doc.displayName;
    if (typeof displayName !== 'string' || !displayName.trim())
      throw invalidValue('displayName is required');
    const externalId =
      typeof doc.externalId === 'string' && doc.externalId !== '' ? doc.externalId : null;
    return { name: groupNameFor(displayName), display_name: displayName, external_id: externalId };
  }

  private async assertUsers(tenantId: string, ids: string[], m: EntityManager) {
    if (!ids.length) return;
    const bad = ids.find((id) => !UUID.test(id));
    if (bad) throw invalidValue(`members: no user ${JSON.stringify(bad)} in this tenant`);
    const known = await this.users.existingIds(tenantId, ids, m);
    const missing = ids.find((id) => !known.has(id));
    if (missing) throw invalidValue(`members: no user ${missing} in this tenant`);
  }

  private async addMembers(tenantId: string, groupId: string, ids: string[], m: EntityManager) {
    if (!ids.length) return;
    await this.assertUsers(tenantId, ids, m);
    await this.members.add(tenantId, groupId, ids, new Date(), m);
  }

  private async removeMembers(tenantId: string, groupId: string, ids: string[], m: EntityManager) {
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length) await this.members.remove(tenantId, groupId, valid, m);
  }

  async create(tenantId: string, body: unknown): Promise<Written> {
    const doc = normalizeResource(GROUP_RESOURCE, body);
    const attrs = this.attributes(doc);
    const ids = doc.members === undefined ? [] : memberIds(doc.members);
    const now = new Date();
    const row = await this.dataSource.transaction(async (m) => {
      const inserted = await this.groups.insert(
        tenantId,
        { ...attrs, group_id: randomUUID(), created_at: now, updated_at: now, version: 1 },
        m,
      );
      await this.addMembers(tenantId, inserted.group_id, ids, m);
      return this.find(tenantId, inserted.group_id, m);
    });
    const [resource] = await this.represent(tenantId, [row], {});
    return { resource, id: row.group_id, version: row.version };
  }

  async replace(tenantId: string, id: string, body: unknown, ifMatch?: string): Promise<Written> {
    const doc = normalizeResource(GROUP_RESOURCE, body);
    const attrs = this.attributes(doc);
    const ids = doc.members === undefined ? [] : memberIds(doc.members);
    return this.write(tenantId, id, ifMatch, async (current, m) => {
      await this.members.remove(tenantId, current.group_id, undefined, m);
      await this.addMembers(tenantId, current.group_id, ids, m);
      return attrs;
    });
  }

  /**
   * Attribute operations apply to the group's document in memory; member operations become
   * statements run in order (a group may have many members, and Entra sends one change at a time).
   */
  async patch(
    tenantId: string,
    id: string,
    body: unknown,
    ifMatch?: string,
    withResource = true,
  ): Promise<Written> {
    const ops = parsePatchRequest(body);
    const changes: MemberChange[] = [];
    const hook: MultiValuedHook = (attr, op, target, value) => {
      if (attr.name !== 'members') return false;
      if (target.sub) throw mutability('Members cannot be changed in place; add or remove them');
      if (target.filter) {
        if (op !== 'remove')
          throw mutability('Members cannot be changed in place; add or remove them');
        changes.push({ kind: 'removeWhere', filter: target.filter });
      } else if (op === 'add') changes.push({ kind: 'add', ids: memberIds(value) });
      else if (op === 'replace') changes.push({ kind: 'set', ids: memberIds(value) });
      else if (value === undefined || value === null) changes.push({ kind: 'set', ids: [] });
      else changes.push({ kind: 'remove', ids: memberIds(value) });
      return true;
    };
    return this.write(
      tenantId,
      id,
      ifMatch,
      async (current, m) => {
        const doc: ScimDoc = { displayName: current.display_name ?? current.name };
        if (current.external_id !== null) doc.externalId = current.external_id;
        const next = applyPatch(GROUP_RESOURCE, doc, ops, hook);
        for (const c of changes) await this.applyMemberChange(tenantId, current.group_id, c, m);
        const attrs = this.attributes(next);
        const same =
          attrs.display_name === (current.display_name ?? current.name) &&
          attrs.external_id === current.external_id;
        return same ? undefined : attrs;
      },
      withResource,
    );
  }

  private async applyMemberChange(
    tenantId: string,
    groupId: string,
    c: MemberChange,
    m: EntityManager,
  ) {
    switch (c.kind) {
      case 'add':
        return this.addMembers(tenantId, groupId, c.ids, m);
      case 'remove':
        return this.removeMembers(tenantId, groupId, c.ids, m);
      case 'set': {
        await this.assertUsers(tenantId, c.ids, m);
        await this.members.remove(tenantId, groupId, undefined, m);
        return this.addMembers(tenantId, groupId, c.ids, m);
      }
      case 'removeWhere': {
        const ids = valueIds(c.filter);
        if (ids) return this.removeMembers(tenantId, groupId, ids, m);
        const [rep] = await this.represent(
          tenantId,
          [await this.find(tenantId, groupId, m)],
          {},
          m,
        );
        const current = Array.isArray(rep.members)
          ? (rep.members as Array<Record<string, unknown>>)
          : [];
        const matched = current
          .filter((e) => matchesElement(c.filter, e))
          .map((e) => String(e.value));
        return this.removeMembers(tenantId, groupId, matched, m);
      }
    }
  }

  private async write(
    tenantId: string,
    id: string,
    ifMatch: string | undefined,
    change: (current: GroupEntity, m: EntityManager) => Promise<Partial<GroupEntity> | undefined>,
    withResource = true,
  ): Promise<Written> {
    const { row, renamed } = await this.dataSource.transaction(async (m) => {
      const current = await this.find(tenantId, id, m, true);
      checkIfMatch(ifMatch, current.version);
      const attrs = await change(current, m);
      if (attrs)
        await this.groups.update(
          tenantId,
          current.group_id,
          { ...attrs, updated_at: new Date() },
          m,
        );
      return { row: await this.find(tenantId, current.group_id, m), renamed: attrs !== undefined };
    });
    // As the groups module does: tenant caches hear of group changes, not of each membership change.
    if (renamed) this.tenantEvents.emit({ type: 'changed', tenantId });
    const [resource] = withResource ? await this.represent(tenantId, [row], {}) : [{}];
    return { resource, id: row.group_id, version: row.version };
  }

  async remove(tenantId: string, id: string, ifMatch?: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const current = await this.find(tenantId, id, m, true);
      checkIfMatch(ifMatch, current.version);
      await this.groups.delete(tenantId, current.group_id, m);
    });
    this.tenantEvents.emit({ type: 'changed', tenantId });
  }
}
