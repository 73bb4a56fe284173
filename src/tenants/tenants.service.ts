import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { Repository } from 'typeorm';
import { badRequest, conflict, notFound } from '../common/problem.js';
import { page, type Page } from '../common/pagination.js';
import { TenantEvents } from '../../libs/tenancy/index.js';
import { TenantEntity } from './tenant.entity.js';
import {
  DEFAULT_SETTINGS,
  mergeSettings,
  SETTING_KEYS,
  type TenantSettings,
} from './tenant-settings.js';
import type {
  CreateTenantDto,
  ReplaceTenantDto,
  TenantDto,
  UpdateTenantDto,
} from './dto/tenant.dto.js';
import type { TenantListQuery } from './dto/tenant.dto.js';

export function toTenantDto(t: TenantEntity): TenantDto {
  return {
    tenant_id: t.tenant_id,
    display_name: t.display_name,
    ...mergeSettings(DEFAULT_SETTINGS, t.settings),
    created_at: t.created_at.toISOString(),
    updated_at: t.updated_at.toISOString(),
  };
}

/** The settings part of a validated body (block_config may be partial: it merges per field). */
function settingsFrom(dto: object): Partial<TenantSettings> {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = (dto as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  // The seed's spelling, accepted on input; pattern_size wins when both are given.
  const alias = (dto as { patter_size?: unknown }).patter_size;
  if (alias !== undefined && out.pattern_size === undefined) out.pattern_size = alias;
  return out as Partial<TenantSettings>;
}

/** Tenant rows and settings. Deleting a tenant removes every row it owns (FK cascades, one statement). */
@Injectable()
export class TenantsService {
  /** Edge lookups: known tenants briefly, unknown ones (negative) even more briefly. */
  private readonly existence = new LRUCache<string, boolean>({ max: 50_000, ttl: 10_000 });
  private readonly settingsCache = new LRUCache<string, TenantSettings & { display_name: string }>({
    max: 10_000,
    ttl: 5_000,
  });

  constructor(
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly events: TenantEvents,
  ) {
    events.subscribe((e) => {
      this.settingsCache.delete(e.tenantId);
      if (e.type === 'deleted') this.existence.set(e.tenantId, false, { ttl: 2_000 });
    });
  }

  /** Settings read on hot paths (password policy, blocker, provider build): cached briefly. */
  async settings(tenantId: string): Promise<TenantSettings & { display_name: string }> {
    const cached = this.settingsCache.get(tenantId);
    if (cached) return cached;
    const t = await this.load(tenantId);
    const value = { ...mergeSettings(DEFAULT_SETTINGS, t.settings), display_name: t.display_name };
    this.settingsCache.set(tenantId, value);
    return value;
  }

  async exists(tenantId: string): Promise<boolean> {
    const cached = this.existence.get(tenantId);
    if (cached !== undefined) return cached;
    const found = await this.tenants.exists({ where: { tenant_id: tenantId } });
    this.existence.set(tenantId, found, { ttl: found ? 10_000 : 2_000 });
    return found;
  }

  async create(dto: CreateTenantDto): Promise<TenantDto> {
    await this.tenants.manager.transaction(async (m) => {
      const inserted = await m
        .createQueryBuilder()
        .insert()
        .into(TenantEntity)
        .values({
          tenant_id: dto.tenant_id,
          display_name: dto.display_name,
          settings: mergeSettings(DEFAULT_SETTINGS, settingsFrom(dto)),
        } as never)
        .orIgnore()
        .returning('tenant_id')
        .execute();
      if (!inserted.raw?.length)
        throw conflict('tenant_id', `Tenant ${dto.tenant_id} already exists`);
      // Everything a tenant needs from birth (signing keys, ...) is made in this transaction.
      await this.events.runCreateHooks(dto.tenant_id, m);
    });
    this.existence.delete(dto.tenant_id);
    return this.get(dto.tenant_id);
  }

  private async load(tenantId: string): Promise<TenantEntity> {
    const t = await this.tenants.findOne({ where: { tenant_id: tenantId } });
    if (!t) throw notFound('Tenant');
    return t;
  }

  async get(tenantId: string): Promise<TenantDto> {
    return toTenantDto(await this.load(tenantId));
  }

  async list(q: TenantListQuery): Promise<Page<TenantDto>> {
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    const [rows, total] = await this.tenants.findAndCount({
      order: { [q.sort_by]: dir, tenant_id: dir },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toTenantDto), total, q);
  }

  async replace(tenantId: string, dto: ReplaceTenantDto): Promise<TenantDto> {
    if (dto.tenant_id !== undefined && dto.tenant_id !== tenantId) {
      throw badRequest('tenant_id cannot be changed', [
        { field: 'tenant_id', message: 'must equal the tenant id in the path' },
      ]);
    }
    return this.write(tenantId, dto.display_name, () =>
      mergeSettings(DEFAULT_SETTINGS, settingsFrom(dto)),
    );
  }

  async update(tenantId: string, dto: UpdateTenantDto): Promise<TenantDto> {
    if (dto.tenant_id !== undefined && dto.tenant_id !== tenantId) {
      throw badRequest('tenant_id cannot be changed', [
        { field: 'tenant_id', message: 'must equal the tenant id in the path' },
      ]);
    }
    return this.write(tenantId, dto.display_name, (current) =>
      mergeSettings(current, settingsFrom(dto)),
    );
  }

  private async write(
    tenantId: string,
    displayName: string | undefined,
    next: (current: TenantSettings) => TenantSettings,
  ): Promise<TenantDto> {
    // Row lock so two concurrent PATCHes of different settings both land.
    const saved = await this.tenants.manager.transaction(async (m) => {
      const t = await m
        .getRepository(TenantEntity)
        .findOne({ where: { tenant_id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!t) throw notFound('Tenant');
      t.settings = next(mergeSettings(DEFAULT_SETTINGS, t.settings));
      if (displayName !== undefined) t.display_name = displayName;
      t.updated_at = new Date();
      return m.getRepository(TenantEntity).save(t);
    });
    this.events.emit({ type: 'changed', tenantId });
    return toTenantDto(saved);
  }

  async remove(tenantId: string): Promise<void> {
    const result = await this.tenants.delete({ tenant_id: tenantId });
    if (!result.affected) throw notFound('Tenant');
    this.existence.set(tenantId, false, { ttl: 2_000 });
    this.events.emit({ type: 'deleted', tenantId });
  }
}
