import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { page, type Page } from '../common/pagination.js';
import { badRequest, notFound } from '../common/problem.js';
import { TenantsService } from '../tenants/tenants.service.js';
import {
  CreateUserDto,
  type BatchCreateResultDto,
  type BatchDeleteResultDto,
  type ReplaceUserDto,
  type UpdateUserDto,
  type UserDto,
  type UserListQuery,
} from './dto/user.dto.js';
import type { HashPriority } from './hash-limiter.js';
import { hashScheme } from './legacy-hashes.js';
import { PasswordHasher, tooManyPasswords } from './password-hasher.js';
import { passwordProblems } from './password-policy.js';
import { UserEvents } from './user-events.js';
import { TenantUserCountEntity, UserEntity } from './user.entity.js';
import { isUuid } from '../common/ids.js';
import {
  DEFAULTS,
  toUserDto,
  sameAddress,
  likePrefix,
  usernameOf,
  USERNAME_ONLY,
  pick,
  tenantMismatch,
} from './user-values.js';
import { DomainError } from '../common/domain-error.js';

/** The directory: users of a tenant, their passwords and their state. */
@Injectable()
export class UsersService {
  constructor(
    @InjectTenantRepository(UserEntity) private readonly users: TenantRepository<UserEntity>,
    @InjectTenantRepository(TenantUserCountEntity)
    private readonly counts: TenantRepository<TenantUserCountEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
    private readonly events: UserEvents,
    private readonly hasher: PasswordHasher,
  ) {}

  // ---- reads used by other modules (login, OIDC, SCIM, API keys)

  /** On the token, userinfo and introspection paths: one prepared statement, no query builder. */
  async getEntity(tenantId: string, userId: string): Promise<UserEntity | null> {
    if (!isUuid(userId)) return null;
    const rows = await this.users.sql<UserEntity>(
      tenantId,
      'users_get_entity',
      'SELECT * FROM users WHERE tenant_id = $1 AND user_id = $2',
      [userId],
    );
    return rows[0] ?? null;
  }

  async userExists(tenantId: string, userId: string): Promise<boolean> {
    return (await this.getEntity(tenantId, userId)) !== null;
  }

  async isUserActive(tenantId: string, userId: string): Promise<boolean> {
    const u = await this.getEntity(tenantId, userId);
    return u !== null && !u.is_disabled;
  }

  /** A sign-in name: the username, or the email address, case-insensitively. */
  findForLogin(tenantId: string, login: string): Promise<UserEntity | null> {
    const value = login.trim();
    if (!value || value.length > 254) return Promise.resolve(null);
    const field = value.includes('@') && !USERNAME_ONLY.test(value) ? 'email' : 'username';
    return this.byLowered(tenantId, field, value).then(
      (u) =>
        u ??
        (field === 'username' && value.includes('@')
          ? this.byLowered(tenantId, 'email', value)
          : null),
    );
  }

  private byLowered(
    tenantId: string,
    field: 'username' | 'email',
    value: string,
  ): Promise<UserEntity | null> {
    return this.users
      .query(tenantId, 'u')
      .andWhere(`lower(u.${field}) COLLATE "C" = :v`, { v: value.toLowerCase() })
      .getOne();
  }

  /** One full bcrypt compare on every path (unknown user, no password, too long): see PasswordHasher. */
  async verifyPassword(tenantId: string, user: UserEntity | null, pw: string): Promise<boolean> {
    const stored = user?.password_hash ?? null;
    const ok = await this.hasher.verify(tenantId, stored, pw);
    // An imported argon2/PBKDF2 hash, verified once: from now on the user has a bcrypt one.
    if (ok && stored && hashScheme(stored) !== 'bcrypt') {
      const where = { user_id: user!.user_id, password_hash: stored };
      const password_hash = await this.hasher.hash(tenantId, pw, 'interactive');
      await this.users.update(tenantId, where, { password_hash });
    }
    return ok;
  }

  // ---- management API

  async get(tenantId: string, userId: string): Promise<UserDto> {
    return toUserDto(await this.load(tenantId, userId));
  }

  async getByUsername(tenantId: string, username: string): Promise<UserDto> {
    const u = await this.byLowered(tenantId, 'username', username);
    if (!u) throw notFound('User');
    return toUserDto(u);
  }

  private async load(
    tenantId: string,
    userId: string,
    manager?: EntityManager,
  ): Promise<UserEntity> {
    const u = isUuid(userId)
      ? await this.users.findOne(tenantId, { user_id: userId }, manager)
      : null;
    if (!u) throw notFound('User');
    return u;
  }

  private async hashPassword(
    tenantId: string,
    password: string,
    priority: HashPriority,
  ): Promise<string> {
    const { password_min_length } = await this.tenants.settings(tenantId);
    const problems = passwordProblems(password, password_min_length);
    if (problems.length) throw badRequest('The password does not meet the policy', problems);
    return this.hasher.hash(tenantId, password, priority);
  }

  async create(tenantId: string, dto: CreateUserDto): Promise<UserDto> {
    const wrongTenant = tenantMismatch(tenantId, dto);
    if (wrongTenant) throw badRequest(wrongTenant, [{ field: 'tenant_id', message: wrongTenant }]);
    const password_hash =
      dto.password !== undefined ? await this.hashPassword(tenantId, dto.password, 'bulk') : null;
    const row = this.newRow(tenantId, dto, password_hash);
    await this.users.insert(tenantId, row);
    return toUserDto(row);
  }

  private newRow(tenantId: string, dto: CreateUserDto, password_hash: string | null): UserEntity {
    const now = new Date();
    const row = this.users.create(tenantId, {
      ...DEFAULTS,
      ...pick(dto),
      user_id: dto.user_id ?? randomUUID(),
      username: dto.username,
      password_hash,
      password_changed_at: password_hash ? now : null,
      created_at: dto.created_at ? new Date(dto.created_at) : now,
      updated_at: now,
    });
    return row;
  }

  async list(tenantId: string, q: UserListQuery): Promise<Page<UserDto>> {
    const qb = this.users.query(tenantId, 'u');
    if (q.username)
      qb.andWhere(`lower(u.username) COLLATE "C" LIKE :un ESCAPE '\\'`, {
        un: likePrefix(q.username),
      });
    if (q.email)
      qb.andWhere(`lower(u.email) COLLATE "C" LIKE :em ESCAPE '\\'`, {
        em: likePrefix(q.email),
      });
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    if (q.sort_by === 'username') qb.orderBy(`lower(u.username) COLLATE "C"`, dir);
    else if (q.sort_by === 'email')
      qb.orderBy(`lower(u.email) COLLATE "C"`, dir, dir === 'ASC' ? 'NULLS LAST' : 'NULLS FIRST');
    else qb.orderBy('u.created_at', dir);
    qb.addOrderBy('u.user_id', dir).limit(q.limit).offset(q.offset);
    const filtered = Boolean(q.username || q.email);
    const [rows, total] = await Promise.all([
      qb.getMany(),
      filtered ? qb.clone().orderBy().limit().offset().getCount() : this.countAll(tenantId),
    ]);
    return page(rows.map(toUserDto), total, q);
  }

  /** Kept by statement triggers in 16 shards (see the directory migration): exact, and O(1). */
  async countAll(tenantId: string): Promise<number> {
    const row = await this.counts
      .query(tenantId, 'c')
      .select('COALESCE(SUM(c.user_count), 0)', 'n')
      .getRawOne<{ n: string }>();
    return Number(row?.n ?? 0);
  }

  async replace(tenantId: string, userId: string, dto: ReplaceUserDto): Promise<UserDto> {
    return this.write(tenantId, userId, () => ({
      ...DEFAULTS,
      ...pick(dto),
      username: dto.username,
    }));
  }

  async update(tenantId: string, userId: string, dto: UpdateUserDto): Promise<UserDto> {
    return this.write(tenantId, userId, () => ({
      ...pick(dto),
      ...(dto.username !== undefined ? { username: dto.username } : {}),
    }));
  }

  private async write(
    tenantId: string,
    userId: string,
    changes: () => Partial<UserEntity>,
  ): Promise<UserDto> {
    const { previous, after } = await this.dataSource.transaction(async (m) => {
      const current = await this.load(tenantId, userId, m);
      const snapshot = { ...current };
      const next = changes();
      // A new address is not proven yet, unless the caller says so in the same request.
      if (next.is_verified === undefined && !sameAddress(next.email, current.email))
        next.is_verified = false;
      Object.assign(current, next, { updated_at: new Date() });
      await this.users.save(tenantId, current, m);
      return { previous: snapshot, after: current };
    });
    await this.announceStateChange(previous, after);
    return toUserDto(after);
  }

  private async announceStateChange(before: UserEntity, after: UserEntity) {
    if (!before.is_disabled && after.is_disabled) {
      await this.events.emit({
        type: 'disabled',
        tenantId: after.tenant_id,
        userId: after.user_id,
      });
    } else if (before.is_disabled && !after.is_disabled) {
      await this.events.emit({ type: 'enabled', tenantId: after.tenant_id, userId: after.user_id });
    }
  }

  async remove(tenantId: string, userId: string): Promise<void> {
    if (!isUuid(userId) || (await this.users.delete(tenantId, { user_id: userId })) === 0)
      throw notFound('User');
    await this.events.emit({ type: 'deleted', tenantId, userId });
  }

  /** `byAdmin`: the user must choose a new one where the tenant stipulates it (others clear it). */
  async setPassword(tenantId: string, userId: string, password: string, byAdmin = false) {
    await this.load(tenantId, userId);
    const password_hash = await this.hashPassword(tenantId, password, 'interactive');
    const now = new Date();
    const password_change_required = byAdmin;
    await this.users.update(
      tenantId,
      { user_id: userId },
      { password_hash, password_changed_at: now, password_change_required, updated_at: now },
    );
    await this.events.emit({ type: 'password_changed', tenantId, userId });
  }

  /**
   * The user changes their own password: the current one must be right (a bcrypt compare
   * either way), then the new one goes through the tenant's policy like any other.
   */
  async changeOwnPassword(
    tenantId: string,
    userId: string,
    current: string,
    next: string,
  ): Promise<void> {
    const user = await this.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    if (!(await this.verifyPassword(tenantId, user, current)))
      throw new DomainError('forbidden', 'current-password-wrong', 'The current password is wrong');
    await this.setPassword(tenantId, userId, next);
  }

  async setDisabled(tenantId: string, userId: string, disabled: boolean): Promise<UserDto> {
    return this.update(tenantId, userId, { is_disabled: disabled });
  }

  async markVerified(tenantId: string, userId: string): Promise<UserDto> {
    return this.update(tenantId, userId, { is_verified: true });
  }

  /**
   * Creates every valid user of the batch; invalid and duplicate ones are reported with a reason
   * each. Duplicates are found inside the batch first, then by the database (ON CONFLICT DO NOTHING),
   * so a concurrent writer cannot turn a duplicate into an error for the whole batch.
   */
  /**
   * `inCommit` runs inside the batch's transaction with the ids it inserted, so what it writes
   * (the audit events) commits with the users or not at all.
   */
  async batchCreate(
    tenantId: string,
    items: unknown[],
    inCommit?: (createdIds: string[]) => void,
  ): Promise<BatchCreateResultDto> {
    const passwords = items.filter(
      (i) => i && typeof i === 'object' && (i as { password?: unknown }).password !== undefined,
    ).length;
    const limit = this.hasher.maxPerRequest;
    if (passwords > limit) {
      throw new DomainError('too-large', 'too-many-passwords', tooManyPasswords(passwords, limit), {
        title: 'Too many passwords',
      });
    }
    const result: BatchCreateResultDto = {
      success_created_count: 0,
      fail_create_usernames: [],
      duplicate_usernames: [],
      failures: [],
      created_user_ids: [],
    };
    const fail = (
      index: number,
      item: unknown,
      field: string | null,
      reason: string,
      duplicate = false,
    ) => {
      const username = usernameOf(item);
      result.failures.push({ index, username, field, reason });
      (duplicate ? result.duplicate_usernames : result.fail_create_usernames).push(
        username ?? `#${index}`,
      );
    };

    const { password_min_length } = await this.tenants.settings(tenantId);
    const seen = {
      user_id: new Set<string>(),
      username: new Set<string>(),
      email: new Set<string>(),
      external_id: new Set<string>(),
    };
    const candidates: Array<{ index: number; dto: CreateUserDto }> = [];
    for (const [index, item] of items.entries()) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        fail(index, item, null, 'must be an object');
        continue;
      }
      const dto = plainToInstance(CreateUserDto, item);
      const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length) {
        const first = errors[0];
        fail(
          index,
          item,
          first.property,
          Object.values(first.constraints ?? { invalid: 'is invalid' })[0],
        );
        continue;
      }
      const wrongTenant = tenantMismatch(tenantId, dto);
      if (wrongTenant) {
        fail(index, item, 'tenant_id', wrongTenant);
        continue;
      }
      if (dto.password !== undefined) {
        const problems = passwordProblems(dto.password, password_min_length);
        if (problems.length) {
          fail(index, item, 'password', problems[0].message);
          continue;
        }
      }
      const keys = {
        user_id: dto.user_id?.toLowerCase(),
        username: dto.username.toLowerCase(),
        email: dto.email?.toLowerCase(),
        external_id: dto.external_id ?? undefined,
      };
      const dupField = (['user_id', 'username', 'email', 'external_id'] as const).find(
        (f) => keys[f] !== undefined && seen[f].has(keys[f]!),
      );
      if (dupField) {
        fail(index, item, dupField, `${dupField} appears twice in this batch`, true);
        continue;
      }
      for (const f of ['user_id', 'username', 'email', 'external_id'] as const)
        if (keys[f] !== undefined) seen[f].add(keys[f]!);
      candidates.push({ index, dto });
    }

    // Password hashing is the slow part: the hasher's bulk queue bounds how much runs at once.
    const rows = await Promise.all(
      candidates.map(async ({ dto }) =>
        this.newRow(
          tenantId,
          dto,
          dto.password !== undefined
            ? await this.hasher.hash(tenantId, dto.password, 'bulk')
            : null,
        ),
      ),
    );
    // All statements in one transaction: a failure (or a crash) after the first 500 rows
    // leaves none of the batch behind, so a resend starts from the same state.
    const inserted = new Set<string>();
    await this.dataSource.transaction(async (m) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const res = await this.users.insertIgnoringConflicts(tenantId, chunk, ['user_id'], m);
        for (const r of res) inserted.add(r.user_id!);
      }
      inCommit?.(rows.filter((r) => inserted.has(r.user_id)).map((r) => r.user_id));
    });
    const rejected = candidates.filter((_c, i) => !inserted.has(rows[i].user_id));
    for (const { index, dto } of rejected) {
      const field = await this.conflictingField(tenantId, dto);
      fail(index, dto, field, `${field} is already in use`, true);
    }
    result.created_user_ids = rows.filter((r) => inserted.has(r.user_id)).map((r) => r.user_id);
    result.success_created_count = result.created_user_ids.length;
    result.failures.sort((a, b) => a.index - b.index);
    return result;
  }

  private async conflictingField(tenantId: string, dto: CreateUserDto): Promise<string> {
    if (dto.user_id && (await this.users.findOne(tenantId, { user_id: dto.user_id }))) {
      return 'user_id';
    }
    if (await this.byLowered(tenantId, 'username', dto.username)) return 'username';
    if (dto.email && (await this.byLowered(tenantId, 'email', dto.email))) return 'email';
    return 'external_id';
  }

  async batchDelete(tenantId: string, ids: string[]): Promise<BatchDeleteResultDto> {
    const unique = [...new Set(ids)];
    const deleted = await this.users.deleteReturning(tenantId, { user_id: In(unique) }, [
      'user_id',
    ]);
    const gone = new Set(deleted.map((d) => d.user_id!));
    for (const userId of gone) await this.events.emit({ type: 'deleted', tenantId, userId });
    return { deleted_count: gone.size, not_found_ids: unique.filter((id) => !gone.has(id)) };
  }
}
