import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { IsNull, Repository } from 'typeorm';
import { constantTimeEqual, randomToken, sha256Hex } from '../../libs/crypto/index.js';
import {
  InjectTenantRepository,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { badRequest, forbidden, notFound, unauthorized } from '../common/problem.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import {
  TENANT_SCOPES,
  TOKEN_ONLY_SCOPES,
  USER_KEY_SCOPES,
  hasScope,
  type Holder,
  type Principal,
} from '../auth/scopes.js';
import { isUuid } from '../common/ids.js';
import { UserEvents } from '../users/user-events.js';
import { ApiKeyEntity } from './api-key.entity.js';
import type {
  ApiKeyDto,
  ApiKeyWithSecretDto,
  CreateApiKeyDto,
  UpdateApiKeyDto,
} from './dto/api-key.dto.js';

const KEY_PREFIX: Record<Holder, string> = {
  operator: 'idp_op_',
  tenant: 'idp_tn_',
  user: 'idp_us_',
};
const BOOTSTRAP_NAME = 'bootstrap operator key';
/** Where the first start leaves a generated operator key, inside DATA_DIR. */
export const INITIAL_OPERATOR_KEY_FILE = 'initial-operator-key';
/** How long a verified key is trusted without a database read; revocation here clears it at once. */
const CACHE_TTL_MS = 5_000;
/** last_used_at is written at most this often per key, to keep writes off the hot path. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function toApiKeyDto(k: ApiKeyEntity): ApiKeyDto {
  const lastUsed = k.last_used_at ? k.last_used_at.toISOString() : null;
  return {
    key_id: k.key_id,
    name: k.name,
    scopes: k.scopes,
    tenant_id: k.tenant_id,
    user_id: k.user_id,
    kind: k.kind,
    key_prefix: k.key_prefix,
    created_at: k.created_at.toISOString(),
    last_used_at: lastUsed,
    last_use_at: lastUsed,
    is_active: k.is_active,
  };
}

export interface UserDirectoryPort {
  userExists(tenantId: string, userId: string): Promise<boolean>;
  isUserActive(tenantId: string, userId: string): Promise<boolean>;
}
export const USER_DIRECTORY_PORT = Symbol('USER_DIRECTORY_PORT');

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiKeys');
  private readonly verified = new LRUCache<string, { key: ApiKeyEntity; lastWrite: number }>({
    max: 10_000,
    ttl: CACHE_TTL_MS,
  });

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    @InjectTenantRepository(ApiKeyEntity)
    private readonly tenantKeys: TenantRepository<ApiKeyEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(USER_DIRECTORY_PORT) private readonly users: UserDirectoryPort,
    events: TenantEvents,
    userEvents: UserEvents,
  ) {
    // A disabled or deleted user's keys stop at once on this replica.
    userEvents.subscribe((e) => {
      if (e.type !== 'disabled' && e.type !== 'deleted') return;
      for (const [hash, entry] of this.verified.entries()) {
        if (entry.key.tenant_id === e.tenantId && entry.key.user_id === e.userId)
          this.verified.delete(hash);
      }
    });
    // A deleted tenant's keys are gone from the database; drop them from the cache too.
    events.subscribe((e) => {
      if (e.type !== 'deleted') return;
      for (const [hash, entry] of this.verified.entries()) {
        if (entry.key.tenant_id === e.tenantId) this.verified.delete(hash);
      }
    });
  }

  /**
   * IDP_BOOTSTRAP_OPERATOR_KEY is stored (as a hash) so it works like any operator key; without
   * it, the first start on an empty database generates one operator key and writes it to a
   * file in DATA_DIR readable by the server's user only. Only the path is logged: logs are
   * shipped, kept and read by many, and a key in them would be an operator key for all of them.
   */
  async onApplicationBootstrap() {
    const bootstrap = this.config.bootstrapOperatorKey;
    if (bootstrap) {
      const hash = sha256Hex(bootstrap);
      const existing = await this.keys.findOne({ where: { key_hash: hash } });
      if (!existing) {
        await this.keys.delete({ name: BOOTSTRAP_NAME, kind: 'operator', tenant_id: IsNull() });
        // Replicas starting together race here: whichever inserts second finds the key there.
        await this.keys
          .createQueryBuilder()
          .insert()
          .values(this.newRow('operator', null, null, BOOTSTRAP_NAME, ['operator'], bootstrap))
          .orIgnore()
          .execute();
      }
      return;
    }
    const operators = await this.keys.count({ where: { kind: 'operator' } });
    if (operators === 0) {
      const key = KEY_PREFIX.operator + randomToken(32);
      // The file first: a key stored but written nowhere would lock everyone out for good.
      const file = this.writeInitialOperatorKey(key);
      await this.keys.insert(
        this.newRow('operator', null, null, 'initial operator key', ['operator'], key),
      );
      this.logger.warn(
        { file },
        `Initial operator API key written to ${file} (mode 0600): store it elsewhere and delete the file. Set IDP_BOOTSTRAP_OPERATOR_KEY to choose your own instead.`,
      );
    }
  }

  /**
   * A fresh file created with mode 0600 (never an older file's looser mode: it is removed
   * first, and `wx` refuses to follow anything put there in between).
   */
  private writeInitialOperatorKey(key: string): string {
    const file = join(this.config.dataDir, INITIAL_OPERATOR_KEY_FILE);
    try {
      mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
      rmSync(file, { force: true });
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new Error(
        `cannot write the initial operator key to ${file} (${(err as Error).message}): make DATA_DIR writable or set IDP_BOOTSTRAP_OPERATOR_KEY`,
        { cause: err },
      );
    }
    return file;
  }

  private newRow(
    kind: Holder,
    tenantId: string | null,
    userId: string | null,
    name: string,
    scopes: string[],
    key: string,
  ): ApiKeyEntity {
    const row = new ApiKeyEntity();
    row.key_id = randomUUID();
    row.kind = kind;
    row.tenant_id = tenantId;
    row.user_id = userId;
    row.name = name;
    row.scopes = scopes;
    row.key_hash = sha256Hex(key);
    row.key_prefix = key.slice(0, 11);
    row.is_active = true;
    row.created_at = new Date();
    row.last_used_at = null;
    return row;
  }

  /** Resolves a presented key to its principal, or throws 401 with one message for every failure. */
  async authenticate(presented: string): Promise<Principal> {
    const hash = sha256Hex(presented);
    let entry = this.verified.get(hash);
    if (!entry) {
      const key = await this.keys.findOne({ where: { key_hash: hash } });
      if (!key || !constantTimeEqual(key.key_hash, hash) || !key.is_active) {
        throw unauthorized('The API key is missing, unknown or revoked');
      }
      if (key.kind === 'user' && !(await this.users.isUserActive(key.tenant_id!, key.user_id!))) {
        throw unauthorized('The API key is missing, unknown or revoked');
      }
      entry = { key, lastWrite: key.last_used_at?.getTime() ?? 0 };
      this.verified.set(hash, entry);
    }
    const now = Date.now();
    if (now - entry.lastWrite > LAST_USED_RESOLUTION_MS) {
      entry.lastWrite = now;
      entry.key.last_used_at = new Date(now);
      // Awaited (once a minute per key at most) so a read right after a use sees it;
      // a failure to record it never fails the request.
      await this.keys
        .update({ key_id: entry.key.key_id }, { last_used_at: entry.key.last_used_at })
        .catch((err) => {
          this.logger.warn({ err }, 'could not record last use of an API key');
        });
    }
    const k = entry.key;
    return {
      holder: k.kind,
      credentialId: k.key_id,
      tenantId: k.tenant_id,
      userId: k.user_id,
      scopes: new Set(k.scopes),
      via: 'key',
    };
  }

  private forget(keyHash: string) {
    this.verified.delete(keyHash);
  }

  private assertGrantable(caller: Principal, scopes: string[], tenantId: string | null) {
    const tokenOnly = scopes.filter((s) => TOKEN_ONLY_SCOPES.includes(s));
    if (tokenOnly.length) {
      throw badRequest('No API key can carry these scopes', [
        {
          field: 'scopes',
          message: `${tokenOnly.join(', ')} comes only with the user's own recent sign-in`,
        },
      ]);
    }
    if (tenantId !== null) {
      const bad = scopes.filter((s) => !TENANT_SCOPES.includes(s));
      if (bad.length) {
        throw badRequest(
          'A tenant key cannot carry these scopes',
          bad.map(() => ({ field: 'scopes', message: `${bad.join(', ')} is not a tenant scope` })),
        );
      }
    }
    const missing = scopes.filter((s) => !hasScope(caller, s));
    if (missing.length)
      throw forbidden(
        `A key can only be given scopes its creator holds; missing: ${missing.join(', ')}`,
      );
  }

  /**
   * Changing, regenerating or deleting a key is worth as much as creating it: the caller must
   * hold every scope of the target (and users:write for a user key), or a weak key could read a
   * fresh value of a strong one, or revive it.
   */
  private assertControls(caller: Principal, key: ApiKeyEntity) {
    const needed = key.kind === 'user' ? [...key.scopes, 'users:write'] : key.scopes;
    const missing = needed.filter((s) => !hasScope(caller, s));
    if (missing.length)
      throw forbidden(
        `Only a caller holding every scope of this key may change it; missing: ${missing.join(', ')}`,
      );
  }

  async create(
    caller: Principal,
    tenantId: string | null,
    dto: CreateApiKeyDto,
  ): Promise<ApiKeyWithSecretDto> {
    if (dto.tenant_id !== undefined && dto.tenant_id !== tenantId) {
      throw badRequest('tenant_id does not match', [
        {
          field: 'tenant_id',
          message:
            tenantId === null
              ? 'operator keys belong to no tenant: create tenant keys under /tenants/{tenant_id}/api-keys'
              : 'must equal the tenant in the path',
        },
      ]);
    }
    this.assertGrantable(caller, dto.scopes, tenantId);
    let kind: Holder = tenantId === null ? 'operator' : 'tenant';
    if (dto.user_id !== undefined) {
      if (tenantId === null)
        throw badRequest('Operator keys cannot act as a user', [
          { field: 'user_id', message: 'only tenant keys can be user keys' },
        ]);
      // A user key acts as the user: minting one is a users:write act, whatever its scopes.
      if (!hasScope(caller, 'users:write'))
        throw forbidden('Creating a user key requires the scope users:write');
      if (!(await this.users.userExists(tenantId, dto.user_id))) {
        throw badRequest('Unknown user', [
          { field: 'user_id', message: 'no such user in this tenant' },
        ]);
      }
      kind = 'user';
    }
    const key = KEY_PREFIX[kind] + randomToken(32);
    const row = this.newRow(kind, tenantId, dto.user_id ?? null, dto.name, dto.scopes, key);
    await this.keys.insert(row);
    return { ...toApiKeyDto(row), api_key: key };
  }

  private async load(tenantId: string | null, keyId: string): Promise<ApiKeyEntity> {
    const key =
      tenantId === null
        ? await this.keys.findOne({ where: { key_id: keyId, tenant_id: IsNull() } })
        : await this.tenantKeys.findOne(tenantId, { key_id: keyId });
    if (!key) throw notFound('API key');
    return key;
  }

  async get(tenantId: string | null, keyId: string): Promise<ApiKeyDto> {
    return toApiKeyDto(await this.load(tenantId, keyId));
  }

  async list(tenantId: string | null, q: ListQuery): Promise<Page<ApiKeyDto>> {
    const options = {
      order: { created_at: q.sort_direction === -1 ? 'DESC' : 'ASC', key_id: 'ASC' } as const,
      take: q.limit,
      skip: q.offset,
    };
    const [rows, total] =
      tenantId === null
        ? await this.keys.findAndCount({ ...options, where: { tenant_id: IsNull() } })
        : await this.tenantKeys.findAndCount(tenantId, options);
    return page(rows.map(toApiKeyDto), total, q);
  }

  async update(
    caller: Principal,
    tenantId: string | null,
    keyId: string,
    dto: UpdateApiKeyDto,
  ): Promise<ApiKeyDto> {
    const key = await this.load(tenantId, keyId);
    this.assertControls(caller, key);
    if (dto.name !== undefined) key.name = dto.name;
    if (dto.is_active !== undefined) key.is_active = dto.is_active;
    await this.keys.update({ key_id: key.key_id }, { name: key.name, is_active: key.is_active });
    this.forget(key.key_hash);
    return toApiKeyDto(key);
  }

  async remove(caller: Principal, tenantId: string | null, keyId: string): Promise<void> {
    const key = await this.load(tenantId, keyId);
    this.assertControls(caller, key);
    await this.keys.delete({ key_id: key.key_id });
    this.forget(key.key_hash);
  }

  /** New secret for the same key id, name and scopes; the old value stops working at once. */
  async regenerate(
    caller: Principal,
    tenantId: string | null,
    keyId: string,
  ): Promise<ApiKeyWithSecretDto> {
    const key = await this.load(tenantId, keyId);
    this.assertControls(caller, key);
    const value = KEY_PREFIX[key.kind] + randomToken(32);
    const oldHash = key.key_hash;
    key.key_hash = sha256Hex(value);
    key.key_prefix = value.slice(0, 11);
    await this.keys.update(
      { key_id: key.key_id },
      { key_hash: key.key_hash, key_prefix: key.key_prefix },
    );
    this.forget(oldHash);
    return { ...toApiKeyDto(key), api_key: value };
  }

  /** Self-service: the user's own key, with scopes a user may hold (USER_KEY_SCOPES). */
  async createOwn(
    tenantId: string,
    userId: string,
    name: string,
    scopes: string[],
  ): Promise<ApiKeyWithSecretDto> {
    const refused = scopes.filter((s) => !USER_KEY_SCOPES.includes(s));
    if (refused.length)
      throw badRequest(`A user's own key may hold only ${USER_KEY_SCOPES.join(', ')}`, [
        { field: 'scopes', message: `not for a user key: ${refused.join(', ')}` },
      ]);
    const key = KEY_PREFIX.user + randomToken(32);
    const row = this.newRow('user', tenantId, userId, name, scopes, key);
    await this.keys.insert(row);
    return { ...toApiKeyDto(row), api_key: key };
  }

  async listOwn(tenantId: string, userId: string, q: ListQuery): Promise<Page<ApiKeyDto>> {
    const [rows, total] = await this.tenantKeys.findAndCount(tenantId, {
      where: { user_id: userId },
      order: { created_at: q.sort_direction === -1 ? 'DESC' : 'ASC', key_id: 'ASC' },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toApiKeyDto), total, q);
  }

  private async loadOwn(tenantId: string, userId: string, keyId: string) {
    const key = isUuid(keyId) ? await this.tenantKeys.findOne(tenantId, { key_id: keyId }) : null;
    // Another user's key is as absent as a made-up one.
    if (!key || key.user_id !== userId) throw notFound('API key');
    return key;
  }

  async regenerateOwn(tenantId: string, userId: string, keyId: string) {
    const key = await this.loadOwn(tenantId, userId, keyId);
    const value = KEY_PREFIX.user + randomToken(32);
    const oldHash = key.key_hash;
    key.key_hash = sha256Hex(value);
    key.key_prefix = value.slice(0, 11);
    await this.keys.update(
      { key_id: key.key_id },
      { key_hash: key.key_hash, key_prefix: key.key_prefix },
    );
    this.forget(oldHash);
    return { ...toApiKeyDto(key), api_key: value };
  }

  async removeOwn(tenantId: string, userId: string, keyId: string): Promise<void> {
    const key = await this.loadOwn(tenantId, userId, keyId);
    await this.keys.delete({ key_id: key.key_id });
    this.forget(key.key_hash);
  }
}
