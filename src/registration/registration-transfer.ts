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
import { ClientRegistrationEntity, InitialAccessTokenEntity } from './registration.entities.js';

const HASH = /^[0-9a-f]{64}$/;

function hashOf(r: TransferRecord): string {
  const h = field(r, 'token_hash');
  if (!HASH.test(h)) throw new TransferFormatError(`${r.type} record: token_hash is not a SHA-256`);
  return h;
}

/**
 * Dynamic registration (RFC 7591/7592): initial access tokens and the registration access
 * tokens of registered clients. Both are stored as SHA-256 hashes of random tokens, which no
 * key is involved in: they travel as hashes, and the holders' tokens keep working. The
 * tenant's registration bounds are tenant settings (the tenant record).
 */
@Injectable()
export class RegistrationTransfer implements TenantTransferSection {
  /** After clients (a registration names its client). */
  readonly order = 35;
  readonly types = ['initial_access_token', 'client_registration'] as const;

  constructor(
    @InjectTenantRepository(InitialAccessTokenEntity)
    private readonly initial: TenantRepository<InitialAccessTokenEntity>,
    @InjectTenantRepository(ClientRegistrationEntity)
    private readonly registrations: TenantRepository<ClientRegistrationEntity>,
  ) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    await forEachPage(
      (skip, take) =>
        this.initial.find(ctx.tenantId, { order: { token_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const t of rows) {
          await ctx.emit({
            type: 'initial_access_token',
            token_id: t.token_id,
            token_hash: t.token_hash,
            description: t.description,
            expires_at: t.expires_at.toISOString(),
            max_uses: t.max_uses,
            uses: t.uses,
            created_at: t.created_at.toISOString(),
          });
        }
      },
    );
    await forEachPage(
      (skip, take) =>
        this.registrations.find(
          ctx.tenantId,
          { order: { client_id: 'ASC' }, skip, take },
          ctx.manager,
        ),
      async (rows) => {
        for (const r of rows) {
          await ctx.emit({
            type: 'client_registration',
            client_id: r.client_id,
            token_hash: r.token_hash,
            initial_token_id: r.initial_token_id,
            created_at: r.created_at.toISOString(),
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]) {
    const now = new Date();
    if (type === 'initial_access_token') {
      const kept = new Map(
        (
          await this.initial.find(
            ctx.tenantId,
            {
              where: { token_id: In(records.map((r) => r.token_id).filter(isUuid)) },
              select: { token_id: true, uses: true },
            },
            ctx.manager,
          )
        ).map((t) => [t.token_id, t.uses]),
      );
      const rows = records.map((r) => {
        const id = field(r, 'token_id');
        if (!isUuid(id)) throw new TransferFormatError('initial_access_token: bad token_id');
        const expires = dateOf(r, 'expires_at');
        if (!expires) throw new TransferFormatError('initial_access_token: expires_at is missing');
        return {
          token_id: id,
          token_hash: hashOf(r),
          description: optional(r, 'description'),
          expires_at: expires,
          max_uses: optional<number>(r, 'max_uses', 'number'),
          // Uses only grow: a token spent here stays spent on a second import.
          uses: Math.max(optional<number>(r, 'uses', 'number') ?? 0, kept.get(id) ?? 0),
          created_at: dateOf(r, 'created_at') ?? now,
        };
      });
      await this.initial.upsert(ctx.tenantId, rows, ['token_id'], ctx.manager);
      ctx.count('initial_access_tokens', rows.length);
      return;
    }
    const rows = records.map((r) => {
      const initial = optional(r, 'initial_token_id');
      if (initial !== null && !isUuid(initial))
        throw new TransferFormatError('client_registration: bad initial_token_id');
      return {
        client_id: field(r, 'client_id'),
        token_hash: hashOf(r),
        initial_token_id: initial,
        created_at: dateOf(r, 'created_at') ?? now,
      };
    });
    await this.registrations.upsert(ctx.tenantId, rows, ['client_id'], ctx.manager);
    ctx.count('client_registrations', rows.length);
  }
}
