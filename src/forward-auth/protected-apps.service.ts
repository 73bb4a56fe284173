import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import {
  InjectTenantRepository,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { isUuid } from '../common/ids.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { badRequest, conflict, notFound } from '../common/problem.js';
import { GroupRows } from '../groups/group-rows.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type {
  ProtectedAppDto,
  ReplaceProtectedAppDto,
  UpdateProtectedAppDto,
} from './dto/protected-app.dto.js';
import { AppIndex } from './forward-request.js';
import { ProtectedAppEntity } from './protected-app.entity.js';
import { ForwardAuthRevocations } from './revocations.js';

const DEFAULT_LIFETIME = 12 * 3600;
/** A safety net only: changes reach every replica through the revocation feed. */
const INDEX_TTL_MS = 60_000;

export function toProtectedAppDto(a: ProtectedAppEntity): ProtectedAppDto {
  return {
    app_id: a.app_id,
    tenant_id: a.tenant_id,
    name: a.name,
    hosts: a.hosts,
    path_prefix: a.path_prefix,
    allowed_group_ids: a.allowed_group_ids,
    headers: a.headers,
    jwt_header: a.jwt_header,
    session_lifetime: a.session_lifetime,
    idle_timeout: a.idle_timeout,
    require_2fa: a.require_2fa,
    cookie_domain: a.cookie_domain,
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
  };
}

const hostName = (host: string) => host.replace(/:\d+$/, '');

/**
 * The apps a tenant protects with forward-auth: the management API, and the per-tenant index
 * the check path matches requests against (kept in memory, dropped on every change in every
 * replica through the revocation feed).
 */
@Injectable()
export class ProtectedAppsService {
  /** The loaded index (`done`), or its load in flight: a loaded one is answered synchronously. */
  private readonly indexes = new LRUCache<
    string,
    { pending: Promise<AppIndex | undefined>; done: boolean; value?: AppIndex }
  >({
    max: 10_000,
    ttl: INDEX_TTL_MS,
  });

  constructor(
    @InjectTenantRepository(ProtectedAppEntity)
    private readonly apps: TenantRepository<ProtectedAppEntity>,
    private readonly groups: GroupRows,
    private readonly tenants: TenantsService,
    private readonly revocations: ForwardAuthRevocations,
    tenantEvents: TenantEvents,
  ) {
    revocations.onAppsChanged((tenantId) => this.indexes.delete(tenantId));
    // A deleted tenant's checks answer 404 at once, in every replica.
    tenantEvents.subscribe((e) => this.indexes.delete(e.tenantId));
  }

  /** The tenant's app index; undefined for a tenant that does not exist. */
  index(tenantId: string): Promise<AppIndex | undefined> | AppIndex | undefined {
    const entry = this.indexes.get(tenantId);
    if (entry) return entry.done ? entry.value : entry.pending;
    const pending = this.load(tenantId);
    const fresh = { pending, done: false, value: undefined as AppIndex | undefined };
    this.indexes.set(tenantId, fresh);
    pending.then(
      (value) => {
        fresh.value = value;
        fresh.done = true;
      },
      () => {
        if (this.indexes.get(tenantId) === fresh) this.indexes.delete(tenantId);
      },
    );
    return pending;
  }

  private async load(tenantId: string): Promise<AppIndex | undefined> {
    if (!(await this.tenants.exists(tenantId))) return undefined;
    return new AppIndex(await this.apps.find(tenantId, { order: { created_at: 'ASC' } }));
  }

  private async entity(tenantId: string, appId: string): Promise<ProtectedAppEntity> {
    const a = isUuid(appId) ? await this.apps.findOne(tenantId, { app_id: appId }) : null;
    if (!a) throw notFound('Protected app');
    return a;
  }

  async get(tenantId: string, appId: string): Promise<ProtectedAppDto> {
    return toProtectedAppDto(await this.entity(tenantId, appId));
  }

  async list(tenantId: string, q: ListQuery): Promise<Page<ProtectedAppDto>> {
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    const [rows, total] = await this.apps
      .query(tenantId, 'a')
      .orderBy('a.created_at', dir)
      .addOrderBy('a.app_id', dir)
      .limit(q.limit)
      .offset(q.offset)
      .getManyAndCount();
    return page(rows.map(toProtectedAppDto), total, q);
  }

  async create(tenantId: string, dto: ReplaceProtectedAppDto): Promise<ProtectedAppDto> {
    const now = new Date();
    const app = this.apps.create(tenantId, {
      app_id: randomUUID(),
      created_at: now,
      updated_at: now,
      ...this.fields(dto),
    });
    await this.check(tenantId, app);
    await this.apps.insert(tenantId, app);
    await this.revocations.appsChanged(tenantId);
    return toProtectedAppDto(app);
  }

  async replace(tenantId: string, appId: string, dto: ReplaceProtectedAppDto) {
    const app = await this.entity(tenantId, appId);
    return this.write(tenantId, Object.assign(app, this.fields(dto)));
  }

  async update(tenantId: string, appId: string, dto: UpdateProtectedAppDto) {
    const app = await this.entity(tenantId, appId);
    const current = toProtectedAppDto(app);
    const merged = { ...current, ...dto } as ReplaceProtectedAppDto;
    return this.write(tenantId, Object.assign(app, this.fields(merged)));
  }

  async remove(tenantId: string, appId: string): Promise<void> {
    if (!isUuid(appId) || (await this.apps.delete(tenantId, { app_id: appId })) === 0)
      throw notFound('Protected app');
    await this.revocations.appsChanged(tenantId);
  }

  private async write(tenantId: string, app: ProtectedAppEntity): Promise<ProtectedAppDto> {
    app.updated_at = new Date();
    await this.check(tenantId, app);
    await this.apps.save(tenantId, app);
    await this.revocations.appsChanged(tenantId);
    return toProtectedAppDto(app);
  }

  private fields(dto: ReplaceProtectedAppDto) {
    const lifetime = dto.session_lifetime ?? DEFAULT_LIFETIME;
    return {
      name: dto.name,
      hosts: dto.hosts,
      path_prefix: (dto.path_prefix ?? '/').replace(/(.)\/+$/, '$1'),
      allowed_group_ids: dto.allowed_group_ids ?? [],
      headers: { ...dto.headers },
      jwt_header: dto.jwt_header ?? false,
      session_lifetime: lifetime,
      idle_timeout: dto.idle_timeout ?? null,
      require_2fa: dto.require_2fa ?? false,
      cookie_domain: dto.cookie_domain ?? null,
    };
  }

  /** Rules across fields and rows: hosts free in the tenant, a cookie domain above every host, groups that exist. */
  private async check(tenantId: string, app: ProtectedAppEntity) {
    if (app.idle_timeout !== null && app.idle_timeout > app.session_lifetime)
      throw badRequest('idle_timeout cannot exceed session_lifetime', [
        { field: 'idle_timeout', message: 'at most session_lifetime' },
      ]);
    if (app.cookie_domain) {
      const domain = app.cookie_domain;
      const outside = app.hosts.filter(
        (h) => !hostName(h).endsWith(`.${domain}`) && hostName(h) !== domain,
      );
      if (outside.length)
        throw badRequest(`cookie_domain ${domain} is not a parent of ${outside.join(', ')}`, [
          { field: 'cookie_domain', message: 'must be a parent domain of every host' },
        ]);
    }
    const others = (await this.apps.find(tenantId)).filter((a) => a.app_id !== app.app_id);
    for (const other of others) {
      const shared = other.hosts.filter((h) => app.hosts.includes(h));
      if (shared.length && other.path_prefix === app.path_prefix)
        throw conflict('hosts', `${shared.join(', ')} is already protected by ${other.name}`);
    }
    if (app.allowed_group_ids.length) {
      const found = await this.groups
        .provisioned(tenantId, 'g')
        .andWhere('g.group_id IN (:...ids)', { ids: app.allowed_group_ids })
        .getMany();
      const known = new Set(found.map((g) => g.group_id));
      const missing = app.allowed_group_ids.filter((id) => !known.has(id));
      if (missing.length)
        throw badRequest(`unknown group ${missing.join(', ')}`, [
          { field: 'allowed_group_ids', message: 'every group must exist in the tenant' },
        ]);
    }
  }
}
