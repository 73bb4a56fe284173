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
import { ProtectedAppEntity, type HeaderMapping } from './protected-app.entity.js';

/**
 * Forward-auth protected apps: configuration only, nothing secret (their cookies are signed
 * with the tenant's keys). After groups, whose ids they name. Revocations are short-lived
 * replica signals and stay behind; every replica reloads the app list on the import's tenant
 * event.
 */
@Injectable()
export class ProtectedAppTransfer implements TenantTransferSection {
  readonly order = 80;
  readonly types = ['protected_app'] as const;

  constructor(
    @InjectTenantRepository(ProtectedAppEntity)
    private readonly apps: TenantRepository<ProtectedAppEntity>,
  ) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    await forEachPage(
      (skip, take) =>
        this.apps.find(ctx.tenantId, { order: { app_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const a of rows) {
          await ctx.emit({
            type: 'protected_app',
            app_id: a.app_id,
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
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const now = new Date();
    const rows = records.map((r) => {
      const id = field(r, 'app_id');
      const strings = (name: string) => {
        const v = field<unknown[]>(r, name, 'array');
        if (!v.every((x) => typeof x === 'string'))
          throw new TransferFormatError(`protected_app record: ${name} must hold strings`);
        return v as string[];
      };
      const groups = strings('allowed_group_ids');
      if (!isUuid(id) || !groups.every(isUuid))
        throw new TransferFormatError(`protected_app ${id}: ids must be UUIDs`);
      return {
        app_id: id,
        name: field(r, 'name'),
        hosts: strings('hosts'),
        path_prefix: field(r, 'path_prefix'),
        allowed_group_ids: groups,
        headers: field<HeaderMapping>(r, 'headers', 'object'),
        jwt_header: field<boolean>(r, 'jwt_header', 'boolean'),
        session_lifetime: field<number>(r, 'session_lifetime', 'number'),
        idle_timeout: optional<number>(r, 'idle_timeout', 'number'),
        require_2fa: field<boolean>(r, 'require_2fa', 'boolean'),
        cookie_domain: optional(r, 'cookie_domain'),
        created_at: dateOf(r, 'created_at') ?? now,
        updated_at: dateOf(r, 'updated_at') ?? now,
      };
    });
    await this.apps.upsert(ctx.tenantId, rows, ['app_id'], ctx.manager);
    ctx.count('protected_apps', rows.length);
  }
}
