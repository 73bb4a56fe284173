import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GroupMembersService } from '../groups/group-members.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { PasswordHasher } from '../users/password-hasher.js';
import { passwordProblems } from '../users/password-policy.js';
import { UserEvents, type UserEvent } from '../users/user-events.js';
import { UserRows } from '../users/user-rows.js';
import type { UserEntity } from '../users/user.entity.js';
import { sameAddress } from '../users/user-values.js';
import { UsersService } from '../users/users.service.js';
import { normalizeResource, type ScimDoc } from './scim.document.js';
import { invalidValue, scimNotFound, uniqueness } from './scim.errors.js';
import { parseFilter } from './scim.filter.js';
import { applyPatch, parsePatchRequest } from './scim.patch.js';
import { project, wants, type Projection } from './scim.projection.js';
import { checkIfMatch, type ListParams } from './scim.request.js';
import { SCHEMA_LIST, USER_RESOURCE } from './scim.schemas.js';
import { compileFilter, sortExpression } from './scim.sql.js';
import {
  userDocFromRow,
  userRepresentation,
  userWriteFromDoc,
  type UserWrite,
} from './scim-users.mapper.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';

export interface Written {
  resource: ScimDoc;
  id: string;
  version: number;
}

export interface ListResponse {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: ScimDoc[];
}

/**
 * A first page shorter than `count` is the whole result: the per-sync lookups (`userName eq`,
 * `externalId eq`) then cost one query, not a query and a count.
 */
export async function countedTotal(
  q: ListParams,
  pageLength: number,
  countAll: () => Promise<number>,
) {
  if (q.startIndex === 1 && q.count > 0 && pageLength < q.count) return pageLength;
  return countAll();
}

/** SCIM Users on the directory's users table: every rule of SCIM user provisioning lives here. */
@Injectable()
export class ScimUsersService {
  constructor(
    private readonly users: UserRows,
    private readonly members: GroupMembersService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly events: UserEvents,
    private readonly directory: UsersService,
    private readonly hasher: PasswordHasher,
  ) {}

  base(tenantId: string) {
    return `${this.config.publicUrl}/${tenantId}/scim/v2`;
  }

  // ---- reads

  private async find(
    tenantId: string,
    id: string,
    m?: EntityManager,
    lock = false,
  ): Promise<UserEntity> {
    if (typeof id !== 'string' || !UUID.test(id)) throw scimNotFound('User', String(id));
    const row = await this.users.load(tenantId, id.toLowerCase(), m, lock);
    if (!row) throw scimNotFound('User', id);
    return row;
  }

  async version(tenantId: string, id: string): Promise<number> {
    return (await this.find(tenantId, id)).version;
  }

  async get(tenantId: string, id: string, projection: Projection = {}): Promise<Written> {
    const row = await this.find(tenantId, id);
    const [resource] = await this.represent(tenantId, [row], projection);
    return { resource, id: row.user_id, version: row.version };
  }

  /** Representations of rows, with their groups and managers fetched in one query each. */
  async represent(
    tenantId: string,
    rows: UserEntity[],
    projection: Projection,
  ): Promise<ScimDoc[]> {
    if (!rows.length) return [];
    const groups = new Map<string, Array<{ id: string; display: string }>>();
    if (wants(projection, USER_RESOURCE, 'groups')) {
      const raw = await this.members.groupsOfUsers(
        tenantId,
        rows.map((r) => r.user_id),
      );
      for (const r of raw) {
        const list = groups.get(r.user_id) ?? [];
        list.push({ id: r.group_id, display: r.display });
        groups.set(r.user_id, list);
      }
    }
    const managerIds = [...new Set(rows.map((r) => r.manager_id).filter((m): m is string => !!m))];
    const managers = await this.users.displayNames(tenantId, managerIds);
    const base = this.base(tenantId);
    return rows.map((row) =>
      project(
        userRepresentation(
          row,
          {
            groups: groups.get(row.user_id) ?? [],
            managerDisplay: row.manager_id ? managers.get(row.manager_id) : undefined,
          },
          base,
        ),
        USER_RESOURCE,
        projection,
      ),
    );
  }

  async list(tenantId: string, q: ListParams): Promise<ListResponse> {
    const qb = this.users.provisioned(tenantId, 'u');
    if (q.filter) {
      const p = { params: {}, next: 0 };
      const sql = compileFilter(USER_RESOURCE, 'User', parseFilter(q.filter), p);
      qb.andWhere(`(${sql})`, p.params);
    }
    const dir = q.descending ? 'DESC' : 'ASC';
    if (q.sortBy) {
      qb.orderBy(
        sortExpression(USER_RESOURCE, 'User', q.sortBy),
        dir,
        q.descending ? 'NULLS FIRST' : 'NULLS LAST',
      );
      qb.addOrderBy('u.created_at', dir).addOrderBy('u.user_id', dir);
    } else {
      qb.orderBy('u.created_at', 'ASC').addOrderBy('u.user_id', 'ASC');
    }
    const countAll = () =>
      q.filter
        ? qb
            .clone()
            .select('count(*)', 'n')
            .orderBy()
            .getRawOne<{ n: string }>()
            .then((r) => Number(r?.n ?? 0))
        : this.directory.countAll(tenantId);
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

  // ---- writes

  private async hashPassword(tenantId: string, password: string): Promise<string> {
    const { password_min_length } = await this.tenants.settings(tenantId);
    const problems = passwordProblems(password, password_min_length);
    if (problems.length)
      throw invalidValue(`password ${problems.map((p) => p.message).join('; ')}`);
    return this.hasher.hash(tenantId, password, 'bulk');
  }

  private async assertManager(
    tenantId: string,
    managerId: string | null,
    selfId: string,
    m?: EntityManager,
  ) {
    if (!managerId) return;
    if (managerId === selfId) throw invalidValue('A user cannot be their own manager');
    if (!(await this.users.existingIds(tenantId, [managerId], m)).size) {
      throw invalidValue(`manager: no user ${managerId} in this tenant`);
    }
  }

  /** A validated, not yet stored row for a POST body (used one by one and by Bulk). */
  async prepareCreate(
    tenantId: string,
    body: unknown,
  ): Promise<{ row: UserEntity; managerId: string | null }> {
    const write = userWriteFromDoc(normalizeResource(USER_RESOURCE, body));
    const password_hash =
      write.password !== undefined ? await this.hashPassword(tenantId, write.password) : null;
    const now = new Date();
    const { password: _password, ...columns } = write;
    const row = this.users.create(tenantId, {
      ...columns,
      user_id: randomUUID(),
      is_verified: false,
      password_hash,
      password_changed_at: password_hash ? now : null,
      created_at: now,
      updated_at: now,
      version: 1,
    });
    return { row, managerId: write.manager_id };
  }

  async create(tenantId: string, body: unknown): Promise<Written> {
    const { row, managerId } = await this.prepareCreate(tenantId, body);
    await this.assertManager(tenantId, managerId, row.user_id);
    // One statement, no read-before-write: a duplicate inserts nothing and is named afterwards.
    // In a transaction of its own, so the request's audit event commits with the row (0023).
    const inserted = await this.dataSource.transaction((m) =>
      this.users.insertIgnoringConflicts(tenantId, [row], m),
    );
    if (!inserted.length) throw await this.conflictOf(tenantId, row);
    // A new user belongs to no group yet; only a manager needs looking up.
    const [resource] = managerId
      ? await this.represent(tenantId, [row], {})
      : [userRepresentation(row, { groups: [] }, this.base(tenantId))];
    return { resource, id: row.user_id, version: row.version };
  }

  /**
   * Inserts prepared rows in one multi-row statement; rows hitting a unique key are skipped
   * and answered as conflicts. Managers must already exist (Bulk orders references first).
   */
  async insertMany(tenantId: string, rows: UserEntity[], m: EntityManager): Promise<Set<string>> {
    const managerIds = [...new Set(rows.map((r) => r.manager_id).filter((x): x is string => !!x))];
    if (managerIds.length) {
      const known = await this.users.existingIds(tenantId, managerIds, m);
      const missing = managerIds.find((id) => !known.has(id));
      if (missing) throw invalidValue(`manager: no user ${missing} in this tenant`);
    }
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += 1000) {
      const res = await this.users.insertIgnoringConflicts(tenantId, rows.slice(i, i + 1000), m);
      for (const r of res) inserted.add(r.user_id!);
    }
    return inserted;
  }

  existingIds(tenantId: string, ids: string[]): Promise<Set<string>> {
    return this.users.existingIds(tenantId, ids);
  }

  /** Why a row was refused as a duplicate, named as a SCIM attribute. */
  async conflictOf(tenantId: string, row: UserEntity) {
    const qb = this.users.query(tenantId, 'u');
    if (
      await qb
        .clone()
        .andWhere('lower(u.username) COLLATE "C" = :v', { v: row.username.toLowerCase() })
        .getExists()
    ) {
      return uniqueness(`userName ${JSON.stringify(row.username)} is already in use`);
    }
    if (
      row.external_id &&
      (await qb.clone().andWhere('u.external_id = :v', { v: row.external_id }).getExists())
    ) {
      return uniqueness(`externalId ${JSON.stringify(row.external_id)} is already in use`);
    }
    if (
      row.email &&
      (await qb
        .clone()
        .andWhere('lower(u.email) COLLATE "C" = :v', { v: row.email.toLowerCase() })
        .getExists())
    ) {
      return uniqueness(`emails: ${JSON.stringify(row.email)} is already in use`);
    }
    return uniqueness('userName, externalId or emails is already in use');
  }

  async replace(tenantId: string, id: string, body: unknown, ifMatch?: string): Promise<Written> {
    const doc = normalizeResource(USER_RESOURCE, body);
    return this.write(tenantId, id, ifMatch, (current) => {
      // PUT replaces the resource; an omitted `active` keeps the state rather than re-enabling.
      if (doc.active === undefined) doc.active = !current.is_disabled;
      return doc;
    });
  }

  async patch(tenantId: string, id: string, body: unknown, ifMatch?: string): Promise<Written> {
    const ops = parsePatchRequest(body);
    return this.write(tenantId, id, ifMatch, (current) =>
      applyPatch(USER_RESOURCE, userDocFromRow(current), ops),
    );
  }

  /** Read, change and store a user in one transaction with the row locked; events after commit. */
  private async write(
    tenantId: string,
    id: string,
    ifMatch: string | undefined,
    next: (current: UserEntity) => ScimDoc,
  ): Promise<Written> {
    const { before, after } = await this.dataSource.transaction(async (m) => {
      const current = await this.find(tenantId, id, m, true);
      checkIfMatch(ifMatch, current.version);
      const previous = { ...current };
      const write = userWriteFromDoc(next(current));
      await this.assertManager(tenantId, write.manager_id, current.user_id, m);
      const changes = await this.columns(tenantId, write);
      // SCIM carries no verified flag: a new address (not just a new case) is not proven yet.
      if (!sameAddress(changes.email, current.email)) changes.is_verified = false;
      await this.users.update(tenantId, current.user_id, changes, m);
      return {
        before: previous,
        after: Object.assign(current, changes, { version: current.version + 1 }),
      };
    });
    await this.announce(before, after);
    const [resource] = await this.represent(tenantId, [after], {});
    return { resource, id: after.user_id, version: after.version };
  }

  private async columns(tenantId: string, write: UserWrite): Promise<Partial<UserEntity>> {
    const { password, ...columns } = write;
    const now = new Date();
    const out: Partial<UserEntity> = { ...columns, updated_at: now };
    if (password !== undefined) {
      out.password_hash = await this.hashPassword(tenantId, password);
      out.password_changed_at = now;
    }
    return out;
  }

  /** Deactivation ends sessions and tokens (OIDC listens to UserEvents); so does a new password. */
  private async announce(before: UserEntity, after: UserEntity) {
    const e = (type: UserEvent['type']) =>
      this.events.emit({ type, tenantId: after.tenant_id, userId: after.user_id });
    if (!before.is_disabled && after.is_disabled) await e('disabled');
    else if (before.is_disabled && !after.is_disabled) await e('enabled');
    if (after.password_hash !== before.password_hash) await e('password_changed');
  }

  async remove(tenantId: string, id: string, ifMatch?: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const current = await this.find(tenantId, id, m, true);
      checkIfMatch(ifMatch, current.version);
      await this.users.delete(tenantId, current.user_id, m);
    });
    await this.events.emit({ type: 'deleted', tenantId, userId: id.toLowerCase() });
  }
}
