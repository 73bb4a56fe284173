import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
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
import { IdentityLinkEntity } from './identity-link.entity.js';
import type { ClaimMapping } from './upstream-provider.entity.js';
import { PROVIDER_SETTINGS, UpstreamProviderEntity } from './upstream-provider.entity.js';
import { PROVIDER_ID, UpstreamProvidersService } from './upstream-providers.service.js';

/** Every provider column carried as it is (the secret travels apart, wrapped). */
const PLAIN = PROVIDER_SETTINGS;

const bad = (what: string) => new TransferFormatError(what);

/**
 * Upstream providers (the client secret opened here and sealed for transport, or left out on
 * request) and the users' links to them. After users (40) and groups (70), which they name.
 * A provider arriving without its secret keeps the one the target has, else none: the
 * import report counts it (upstream_providers_without_secret) and an admin sets it again.
 */
@Injectable()
export class UpstreamTransfer implements TenantTransferSection {
  readonly order = 90;
  readonly types = ['upstream_provider', 'identity_link'] as const;

  constructor(
    @InjectTenantRepository(UpstreamProviderEntity)
    private readonly providers: TenantRepository<UpstreamProviderEntity>,
    @InjectTenantRepository(IdentityLinkEntity)
    private readonly links: TenantRepository<IdentityLinkEntity>,
    private readonly upstream: UpstreamProvidersService,
  ) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    await forEachPage(
      (skip, take) =>
        this.providers.find(
          ctx.tenantId,
          { order: { provider_id: 'ASC' }, skip, take },
          ctx.manager,
        ),
      async (rows) => {
        for (const p of rows) {
          const record: TransferRecord = { type: 'upstream_provider', provider_id: p.provider_id };
          for (const k of PLAIN) record[k] = p[k];
          record.client_secret_set = p.client_secret_sealed !== null;
          const secret = this.upstream.openSecret(p);
          if (secret !== null)
            record.client_secret = ctx.secrets.wrap(secret, `upstream_provider:${p.provider_id}`);
          record.created_at = p.created_at.toISOString();
          record.updated_at = p.updated_at.toISOString();
          await ctx.emit(record);
        }
      },
    );
    await forEachPage(
      (skip, take) =>
        this.links.find(ctx.tenantId, { order: { id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const l of rows)
          await ctx.emit({
            type: 'identity_link',
            id: l.id,
            user_id: l.user_id,
            provider_id: l.provider_id,
            subject: l.subject,
            email: l.email,
            created_at: l.created_at.toISOString(),
            last_used_at: l.last_used_at?.toISOString() ?? null,
          });
      },
    );
  }

  async importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]) {
    if (type === 'upstream_provider') return this.importProviders(ctx, records);
    return this.importLinks(ctx, records);
  }

  private async importProviders(ctx: TransferImportContext, records: TransferRecord[]) {
    const ids = records.map((r) => field(r, 'provider_id'));
    for (const id of ids)
      if (!PROVIDER_ID.test(id)) throw bad(`upstream_provider ${id}: invalid provider_id`);
    const kept = new Map(
      (
        await this.providers.find(
          ctx.tenantId,
          {
            where: { provider_id: In(ids) },
            select: { provider_id: true, client_secret_sealed: true },
          },
          ctx.manager,
        )
      ).map((p) => [p.provider_id, p.client_secret_sealed]),
    );
    const now = new Date();
    const rows = records.map((r) => {
      const providerId = field(r, 'provider_id');
      const row: Record<string, unknown> = { provider_id: providerId };
      for (const k of PLAIN) row[k] = r[k] ?? null;
      if (!['oidc', 'oauth2'].includes(field(r, 'kind')))
        throw bad(`upstream_provider ${providerId}: unknown kind`);
      field(r, 'label');
      field(r, 'client_id');
      for (const k of ['scopes', 'domain_hints'] as const)
        if (!field<unknown[]>(r, k, 'array').every((x) => typeof x === 'string'))
          throw bad(`upstream_provider ${providerId}: ${k} must hold strings`);
      field<ClaimMapping>(r, 'claim_mapping', 'object');
      const mapping = field<Record<string, unknown>>(r, 'group_mapping', 'object');
      if (!Object.values(mapping).every(isUuid))
        throw bad(`upstream_provider ${providerId}: group_mapping values must be group ids`);
      for (const k of ['pkce', 'jit_create', 'link_by_email', 'group_sync', 'enabled'] as const)
        field<boolean>(r, k, 'boolean');
      row.display_order = optional<number>(r, 'display_order', 'number') ?? 0;
      const secret = ctx.secrets.unwrap(r.client_secret, `upstream_provider:${providerId}`);
      if (secret) {
        row.client_secret_sealed = this.upstream.sealSecret(ctx.tenantId, providerId, secret);
      } else {
        row.client_secret_sealed = kept.get(providerId) ?? null;
        if (r.client_secret_set === true && !row.client_secret_sealed)
          ctx.count('upstream_providers_without_secret');
      }
      row.created_at = dateOf(r, 'created_at') ?? now;
      row.updated_at = dateOf(r, 'updated_at') ?? now;
      return row as Partial<UpstreamProviderEntity>;
    });
    await this.providers.upsert(ctx.tenantId, rows, ['provider_id'], ctx.manager);
    ctx.count('upstream_providers', rows.length);
  }

  private async importLinks(ctx: TransferImportContext, records: TransferRecord[]) {
    const now = new Date();
    const rows = records.map((r) => {
      const id = field(r, 'id');
      const userId = field(r, 'user_id');
      if (!isUuid(id) || !isUuid(userId)) throw bad(`identity_link ${id}: ids must be UUIDs`);
      const providerId = field(r, 'provider_id');
      if (!PROVIDER_ID.test(providerId)) throw bad(`identity_link ${id}: invalid provider_id`);
      return {
        id,
        user_id: userId,
        provider_id: providerId,
        subject: field(r, 'subject'),
        email: optional(r, 'email'),
        created_at: dateOf(r, 'created_at') ?? now,
        last_used_at: dateOf(r, 'last_used_at'),
      };
    });
    await this.links.upsert(ctx.tenantId, rows, ['id'], ctx.manager);
    ctx.count('identity_links', rows.length);
  }
}
