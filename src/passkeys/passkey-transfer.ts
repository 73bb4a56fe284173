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
import { PasskeyCredentialEntity } from './passkey.entities.js';

/**
 * Passkeys: public keys only, nothing secret. The RP ID is the deployment's host, so a passkey
 * keeps working where the importing deployment answers on the same host name.
 */
@Injectable()
export class PasskeyTransfer implements TenantTransferSection {
  readonly order = 50;
  readonly types = ['passkey'] as const;

  constructor(
    @InjectTenantRepository(PasskeyCredentialEntity)
    private readonly passkeys: TenantRepository<PasskeyCredentialEntity>,
  ) {}

  async exportTo(ctx: TransferExportContext): Promise<void> {
    await forEachPage(
      (skip, take) =>
        this.passkeys.find(ctx.tenantId, { order: { passkey_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const p of rows) {
          await ctx.emit({
            type: 'passkey',
            passkey_id: p.passkey_id,
            user_id: p.user_id,
            credential_id: p.credential_id,
            public_key: Buffer.from(p.public_key).toString('base64url'),
            counter: Number(p.counter),
            transports: p.transports,
            backed_up: p.backed_up,
            device_type: p.device_type,
            aaguid: p.aaguid,
            name: p.name,
            created_at: p.created_at.toISOString(),
            last_used_at: p.last_used_at?.toISOString() ?? null,
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const ids = records.map((r) => field(r, 'passkey_id'));
    // A signature counter never goes back: an older document must not undo a newer count.
    const counters = new Map(
      (
        await this.passkeys.find(
          ctx.tenantId,
          { where: { passkey_id: In(ids) }, select: { passkey_id: true, counter: true } },
          ctx.manager,
        )
      ).map((p) => [p.passkey_id, Number(p.counter)]),
    );
    const now = new Date();
    const rows = records.map((r) => {
      const passkeyId = field(r, 'passkey_id');
      if (!isUuid(passkeyId) || !isUuid(r.user_id)) {
        throw new TransferFormatError(`passkey ${passkeyId}: ids must be UUIDs`);
      }
      const counter = Math.max(field<number>(r, 'counter', 'number'), counters.get(passkeyId) ?? 0);
      return {
        passkey_id: passkeyId,
        user_id: r.user_id,
        credential_id: field(r, 'credential_id'),
        public_key: Buffer.from(field(r, 'public_key'), 'base64url'),
        counter: String(counter),
        transports: optional<string[]>(r, 'transports', 'array') ?? [],
        backed_up: r.backed_up === true,
        device_type: field(r, 'device_type'),
        aaguid: optional(r, 'aaguid'),
        name: field(r, 'name'),
        created_at: dateOf(r, 'created_at') ?? now,
        last_used_at: dateOf(r, 'last_used_at'),
      };
    });
    await this.passkeys.upsert(ctx.tenantId, rows, ['passkey_id'], ctx.manager);
    ctx.count('passkeys', rows.length);
  }
}
