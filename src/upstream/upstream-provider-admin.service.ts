import { Inject, Injectable } from '@nestjs/common';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { outboundUrlProblem, type OutboundPolicy } from '../common/outbound-url.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { badRequest, conflict, notFound, type FieldError } from '../common/problem.js';
import { isUuid } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { GroupRows } from '../groups/group-rows.js';
import type {
  CreateUpstreamProviderDto,
  UpdateUpstreamProviderDto,
  UpstreamProviderDto,
} from './dto/upstream-provider.dto.js';
import { microsoftIssuer, presetDefaults } from './upstream-presets.js';
import { PROVIDER_SETTINGS, UpstreamProviderEntity } from './upstream-provider.entity.js';
import { UpstreamProvidersService } from './upstream-providers.service.js';

export function toUpstreamProviderDto(p: UpstreamProviderEntity): UpstreamProviderDto {
  const { client_secret_sealed, created_at, updated_at, ...rest } = p;
  return {
    ...rest,
    client_secret_set: client_secret_sealed !== null,
    created_at: created_at.toISOString(),
    updated_at: updated_at.toISOString(),
  };
}

/** The fields an admin sets (everything but keys, the sealed secret and timestamps). */
type Settable = Omit<
  UpstreamProviderEntity,
  'tenant_id' | 'provider_id' | 'client_secret_sealed' | 'created_at' | 'updated_at'
>;

const MAX_GROUP_MAPPING = 500;

/** Group ids as stored (lower case); a value that is not a string is left for the check to refuse. */
const lowerIds = (mapping: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(mapping).map(([k, v]) => [k, typeof v === 'string' ? v.toLowerCase() : v]),
  );
/** Whose values are changes worth naming in the audit event (never the secret itself). */
const AUDITED_FIELDS = PROVIDER_SETTINGS;

/** The admin API of upstream providers: create, list, read, change, delete (issue 21). */
@Injectable()
export class UpstreamProviderAdminService {
  private readonly outbound: OutboundPolicy;

  constructor(
    @InjectTenantRepository(UpstreamProviderEntity)
    private readonly providers: TenantRepository<UpstreamProviderEntity>,
    private readonly upstream: UpstreamProvidersService,
    private readonly groups: GroupRows,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.outbound = { allowPrivate: config.outboundAllowPrivate };
  }

  private async entity(tenantId: string, providerId: string): Promise<UpstreamProviderEntity> {
    const row = await this.upstream.find(tenantId, providerId);
    if (!row) throw notFound('Upstream provider');
    return row;
  }

  async get(tenantId: string, providerId: string): Promise<UpstreamProviderDto> {
    return toUpstreamProviderDto(await this.entity(tenantId, providerId));
  }

  /** Newest first unless sort_direction=1, as every list (the buttons' order is display_order). */
  async list(tenantId: string, q: ListQuery): Promise<Page<UpstreamProviderDto>> {
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    const [rows, total] = await this.providers
      .query(tenantId, 'p')
      .orderBy('p.created_at', dir)
      .addOrderBy('p.provider_id', dir)
      .limit(q.limit)
      .offset(q.offset)
      .getManyAndCount();
    return page(rows.map(toUpstreamProviderDto), total, q);
  }

  async create(
    tenantId: string,
    dto: CreateUpstreamProviderDto,
    ctx: AuditContext,
  ): Promise<UpstreamProviderDto> {
    const d = presetDefaults(dto.preset);
    if (dto.microsoft_tenant !== undefined && dto.preset !== 'microsoft')
      throw badRequest('microsoft_tenant goes with the microsoft preset only', [
        { field: 'microsoft_tenant', message: 'only with preset microsoft' },
      ]);
    const issuer =
      dto.issuer !== undefined
        ? dto.issuer
        : dto.microsoft_tenant
          ? microsoftIssuer(dto.microsoft_tenant)
          : d.issuer;
    const fields: Settable = {
      kind: dto.kind ?? d.kind,
      preset: dto.preset ?? null,
      label: dto.label ?? d.label,
      icon_url: dto.icon_url ?? null,
      issuer,
      authorization_endpoint: dto.authorization_endpoint ?? d.authorization_endpoint,
      token_endpoint: dto.token_endpoint ?? d.token_endpoint,
      userinfo_endpoint: dto.userinfo_endpoint ?? d.userinfo_endpoint,
      client_id: dto.client_id,
      scopes: dto.scopes ?? d.scopes,
      pkce: dto.pkce ?? true,
      response_mode: dto.response_mode ?? d.response_mode,
      claim_mapping: { ...d.claim_mapping, ...dto.claim_mapping },
      jit_create: dto.jit_create ?? false,
      link_by_email: dto.link_by_email ?? false,
      domain_hints: dto.domain_hints ?? [],
      group_sync: dto.group_sync ?? false,
      group_mapping: lowerIds(dto.group_mapping ?? {}),
      second_factor: dto.second_factor ?? 'local',
      enabled: dto.enabled ?? true,
      display_order: dto.display_order ?? 0,
    };
    await this.check(tenantId, dto.provider_id, fields);
    if (await this.upstream.find(tenantId, dto.provider_id))
      throw conflict('provider_id', `The tenant has a provider ${dto.provider_id} already`);
    const now = new Date();
    const row = await this.providers.insert(tenantId, {
      ...fields,
      provider_id: dto.provider_id,
      client_secret_sealed: dto.client_secret
        ? this.upstream.sealSecret(tenantId, dto.provider_id, dto.client_secret)
        : null,
      created_at: now,
      updated_at: now,
    });
    this.record(tenantId, 'upstream_provider.created', row.provider_id, ctx, {
      kind: row.kind,
      preset: row.preset,
      client_secret_set: row.client_secret_sealed !== null,
    });
    return toUpstreamProviderDto(row);
  }

  async update(
    tenantId: string,
    providerId: string,
    dto: UpdateUpstreamProviderDto,
    ctx: AuditContext,
  ): Promise<UpstreamProviderDto> {
    const row = await this.entity(tenantId, providerId);
    if (dto.microsoft_tenant !== undefined && row.preset !== 'microsoft')
      throw badRequest('microsoft_tenant goes with the microsoft preset only', [
        { field: 'microsoft_tenant', message: 'only with preset microsoft' },
      ]);
    const {
      client_secret,
      microsoft_tenant,
      provider_id: _id,
      preset: _preset,
      kind: _kind,
      client_secret_set: _set,
      tenant_id: _t,
      created_at: _c,
      updated_at: _u,
      ...given
    } = dto;
    const before: Settable = { ...row };
    const next: Settable = { ...before };
    for (const [key, value] of Object.entries(given))
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
    if (given.claim_mapping) next.claim_mapping = { ...given.claim_mapping };
    if (given.group_mapping) next.group_mapping = lowerIds(given.group_mapping);
    if (microsoft_tenant !== undefined && given.issuer === undefined)
      next.issuer = microsoftIssuer(microsoft_tenant);
    await this.check(tenantId, providerId, next);
    Object.assign(row, next, { updated_at: new Date() });
    let secret: 'replaced' | 'cleared' | undefined;
    if (client_secret !== undefined) {
      row.client_secret_sealed =
        client_secret === null
          ? null
          : this.upstream.sealSecret(tenantId, providerId, client_secret);
      secret = client_secret === null ? 'cleared' : 'replaced';
    }
    await this.providers.save(tenantId, row);
    const changed = AUDITED_FIELDS.filter(
      (f) => JSON.stringify(before[f]) !== JSON.stringify(next[f]),
    );
    this.record(tenantId, 'upstream_provider.updated', providerId, ctx, {
      changed,
      ...(secret ? { client_secret: secret } : {}),
    });
    return toUpstreamProviderDto(row);
  }

  /** Deletes the provider and, with it, every user's link to it (FK cascade). */
  async remove(tenantId: string, providerId: string, ctx: AuditContext): Promise<void> {
    const row = await this.entity(tenantId, providerId);
    const gone = await this.providers.deleteReturning(tenantId, { provider_id: row.provider_id }, [
      'provider_id',
    ]);
    if (!gone.length) throw notFound('Upstream provider');
    this.record(tenantId, 'upstream_provider.deleted', providerId, ctx, {
      kind: row.kind,
      preset: row.preset,
    });
  }

  private record(
    tenantId: string,
    type: string,
    providerId: string,
    ctx: AuditContext,
    details: Record<string, unknown>,
  ) {
    this.audit.record({
      tenantId,
      type,
      actorType: ctx.actorType,
      actorId: ctx.actorId ?? null,
      subjectType: 'upstream_provider',
      subjectId: providerId,
      ip: ctx.ip ?? null,
      userAgent: ctx.userAgent ?? null,
      details: { provider_id: providerId, ...details },
    });
  }

  /** Rules across fields and rows: what each kind needs, fetchable URLs, hints, groups. */
  private async check(tenantId: string, providerId: string, p: Settable): Promise<void> {
    const errors: FieldError[] = [];
    if (!p.label) errors.push({ field: 'label', message: 'required without a preset' });
    if (p.kind === 'oidc' && !p.issuer)
      errors.push({ field: 'issuer', message: 'an oidc provider needs its issuer' });
    if (p.kind === 'oauth2')
      for (const f of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'] as const)
        if (!p[f]) errors.push({ field: f, message: 'an oauth2 provider needs this endpoint' });
    // Fetched by the server: https and public addresses only (OUTBOUND_ALLOW_PRIVATE lifts it).
    for (const f of ['issuer', 'token_endpoint', 'userinfo_endpoint'] as const) {
      const url = p[f];
      if (!url) continue;
      const problem = await outboundUrlProblem(url, this.outbound);
      if (problem) errors.push({ field: f, message: problem });
    }
    // Visited by the browser only: an absolute https URL.
    for (const f of ['authorization_endpoint', 'icon_url'] as const) {
      const url = p[f];
      if (!url) continue;
      const parsed = URL.parse(url);
      if (!parsed) errors.push({ field: f, message: 'must be an absolute URL' });
      else if (
        parsed.protocol !== 'https:' &&
        !(this.outbound.allowPrivate && parsed.protocol === 'http:')
      )
        errors.push({ field: f, message: 'must use https' });
    }
    if (p.issuer && (URL.parse(p.issuer)?.search || URL.parse(p.issuer)?.hash))
      errors.push({ field: 'issuer', message: 'must not have a query or fragment' });
    if (p.kind === 'oidc' && !p.scopes.includes('openid') && p.preset !== 'apple')
      errors.push({ field: 'scopes', message: 'an oidc provider needs the openid scope' });
    errors.push(...this.mappingShape(p.group_mapping));
    if (errors.length)
      throw badRequest(
        `${errors.length} upstream provider setting${errors.length === 1 ? '' : 's'} failed validation`,
        errors,
      );
    await this.checkGroups(tenantId, p.group_mapping);
    await this.checkHints(tenantId, providerId, p.domain_hints);
  }

  private mappingShape(mapping: Record<string, unknown>): FieldError[] {
    const entries = Object.entries(mapping);
    if (entries.length > MAX_GROUP_MAPPING)
      return [{ field: 'group_mapping', message: `at most ${MAX_GROUP_MAPPING} entries` }];
    return entries
      .filter(([key, value]) => !key || key.length > 256 || !isUuid(value))
      .map(([key]) => ({
        field: `group_mapping.${key}`,
        message: 'each upstream group value (1-256 characters) maps to a local group id (uuid)',
      }));
  }

  private async checkGroups(tenantId: string, mapping: Record<string, string>) {
    const ids = [...new Set(Object.values(mapping).map((id) => id.toLowerCase()))];
    if (!ids.length) return;
    const found = await this.groups
      .provisioned(tenantId, 'g')
      .andWhere('g.group_id IN (:...ids)', { ids })
      .getMany();
    const known = new Set(found.map((g) => g.group_id));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length)
      throw badRequest(`unknown group ${missing.join(', ')}`, [
        { field: 'group_mapping', message: 'every group must exist in the tenant' },
      ]);
  }

  /** A domain routes to one provider: a hint another provider of the tenant has is a conflict. */
  private async checkHints(tenantId: string, providerId: string, hints: string[]) {
    if (!hints.length) return;
    const taken = await this.providers
      .query(tenantId, 'p')
      .andWhere('p.provider_id <> :providerId', { providerId })
      .andWhere('p.domain_hints && :hints', { hints })
      .getMany();
    for (const other of taken) {
      const shared = other.domain_hints.filter((h) => hints.includes(h));
      throw conflict('domain_hints', `${shared.join(', ')} already routes to ${other.provider_id}`);
    }
  }
}
