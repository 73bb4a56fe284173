import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import {
  dateOf,
  field,
  TransferFormatError,
  type TenantTransferSection,
  type TransferExportContext,
  type TransferImportContext,
  type TransferRecord,
} from '../../libs/tenancy/index.js';
import { badRequest } from '../common/problem.js';
import { flatten } from '../common/validation.js';
import { ReplaceTenantDto } from './dto/tenant.dto.js';
import { TenantEntity } from './tenant.entity.js';
import { DEFAULT_SETTINGS, mergeSettings, type TenantSettings } from './tenant-settings.js';

/** The tenant's row in an export: display name and settings (the first record after the header). */
@Injectable()
export class TenantTransfer implements TenantTransferSection {
  readonly order = 10;
  readonly types = ['tenant'] as const;

  async exportTo(ctx: TransferExportContext): Promise<void> {
    const t = await ctx.manager
      .getRepository(TenantEntity)
      .findOne({ where: { tenant_id: ctx.tenantId } });
    if (!t) throw new TransferFormatError(`tenant ${ctx.tenantId} is gone`);
    await ctx.emit({
      type: 'tenant',
      tenant_id: t.tenant_id,
      display_name: t.display_name,
      settings: t.settings,
      created_at: t.created_at.toISOString(),
    });
  }

  /** Creates the tenant (without the create hooks: keys come from the document) or updates it. */
  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const r = records[records.length - 1]!;
    const settings = field<Partial<TenantSettings>>(r, 'settings', 'object');
    await this.validate(field(r, 'display_name'), settings);
    const repo = ctx.manager.getRepository(TenantEntity);
    const existing = await repo.findOne({
      where: { tenant_id: ctx.tenantId },
      lock: { mode: 'pessimistic_write' },
    });
    const merged = mergeSettings(DEFAULT_SETTINGS, settings);
    const now = new Date();
    if (existing) {
      existing.display_name = field(r, 'display_name');
      existing.settings = merged;
      existing.updated_at = now;
      await repo.save(existing);
    } else {
      await repo.insert({
        tenant_id: ctx.tenantId,
        display_name: field(r, 'display_name'),
        settings: merged as never,
        created_at: dateOf(r, 'created_at') ?? now,
        updated_at: now,
      });
      ctx.count('tenant_created');
    }
  }

  /**
   * The settings go through the same rules as the settings API (PUT's DTO), so an import cannot
   * store what an admin could not: every refused field is listed, and the import (one
   * transaction) writes nothing.
   */
  private async validate(displayName: string, settings: Partial<TenantSettings>) {
    const dto = plainToInstance(ReplaceTenantDto, { ...settings, display_name: displayName });
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (!errors.length) return;
    const list = flatten(errors).map((e) => ({
      field: e.field === 'display_name' ? e.field : `settings.${e.field}`,
      message: e.message,
    }));
    throw badRequest(
      `The tenant record's settings are refused: ${list.length} field${list.length === 1 ? '' : 's'} failed validation`,
      list,
    );
  }
}
