import { Injectable } from '@nestjs/common';
import {
  dateOf,
  field,
  optional,
  TransferFormatError,
  type TenantTransferSection,
  type TransferExportContext,
  type TransferImportContext,
  type TransferRecord,
} from '../../libs/tenancy/index.js';
import { isUuid } from '../common/ids.js';
import { hashScheme } from './legacy-hashes.js';
import { UserRows } from './user-rows.js';
import type { UserEntity } from './user.entity.js';

/** Columns an export carries as they are. */
const PLAIN = [
  'username',
  'email',
  'is_disabled',
  'is_verified',
  'locale',
  'roles',
  'external_id',
  'display_name',
  'given_name',
  'family_name',
  'picture',
  'password_hash',
  'scim',
] as const satisfies ReadonlyArray<keyof UserEntity>;

const PAGE = 500;
const MANAGERS = 'users:managers';

/**
 * Users with their password hashes (bcrypt as stored; hashes imported from other products,
 * argon2 or PBKDF2, are kept and replaced by bcrypt at the user's first sign-in).
 */
@Injectable()
export class UserTransfer implements TenantTransferSection {
  readonly order = 40;
  readonly types = ['user'] as const;

  constructor(private readonly rows: UserRows) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // Keyset pages on the primary key: constant cost per page whatever the tenant's size.
      const page = await this.rows
        .provisioned(ctx.tenantId, 'u', ctx.manager)
        .andWhere('u.user_id > :after', { after })
        .orderBy('u.user_id', 'ASC')
        .limit(PAGE)
        .getMany();
      for (const u of page) {
        const record: TransferRecord = { type: 'user', user_id: u.user_id };
        for (const k of PLAIN) record[k] = u[k];
        record.manager_id = u.manager_id;
        record.password_changed_at = u.password_changed_at?.toISOString() ?? null;
        record.created_at = u.created_at.toISOString();
        record.updated_at = u.updated_at.toISOString();
        await ctx.emit(record);
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.user_id;
    }
  }

  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const managers = (ctx.state.get(MANAGERS) as Map<string, string> | undefined) ?? new Map();
    ctx.state.set(MANAGERS, managers);
    const now = new Date();
    const rows = records.map((r) => {
      const userId = field(r, 'user_id');
      if (!isUuid(userId)) throw new TransferFormatError(`user ${userId}: user_id is not a UUID`);
      const hash = optional(r, 'password_hash');
      if (hash !== null && hashScheme(hash) === null) {
        throw new TransferFormatError(
          `user ${userId}: password_hash is neither bcrypt, argon2 nor PBKDF2 (PHC string)`,
        );
      }
      field(r, 'username');
      const row: Record<string, unknown> = { user_id: userId };
      for (const k of PLAIN) row[k] = r[k] ?? null;
      row.roles ??= [];
      row.scim ??= {};
      row.is_disabled ??= false;
      row.is_verified ??= false;
      // Set after every user is in (a manager may come later in the document).
      row.manager_id = null;
      const manager = optional(r, 'manager_id');
      if (manager) managers.set(userId, manager);
      row.password_changed_at = dateOf(r, 'password_changed_at');
      row.created_at = dateOf(r, 'created_at') ?? now;
      row.updated_at = dateOf(r, 'updated_at') ?? now;
      return row as Partial<UserEntity>;
    });
    await this.rows.upsert(ctx.tenantId, rows, ctx.manager);
    ctx.count('users', rows.length);
  }

  async finish(ctx: TransferImportContext): Promise<void> {
    const managers = ctx.state.get(MANAGERS) as Map<string, string> | undefined;
    if (!managers?.size) return;
    const present = await this.rows.existingIds(ctx.tenantId, [...managers.values()], ctx.manager);
    for (const [userId, managerId] of managers) {
      if (present.has(managerId)) {
        await this.rows.update(ctx.tenantId, userId, { manager_id: managerId }, ctx.manager);
      }
    }
  }
}
