import { Inject, Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { randomToken, SecretBox } from '../../libs/crypto/index.js';
import {
  dateOf,
  field,
  forEachPage,
  InjectTenantRepository,
  TenantRepository,
  TransferFormatError,
  type TenantTransferSection,
  type TransferExportContext,
  type TransferImportContext,
  type TransferRecord,
} from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SETTING_KEYS } from './client-fields.js';
import { CLIENT_ID_PATTERN } from './client-rules.js';
import { ClientEntity } from './client.entity.js';
import { clientSecretAad } from './clients.service.js';

/** The client columns an export carries as they are: the settings an admin sets. */
const PLAIN = SETTING_KEYS;

/** Clients with their secret opened here and sealed for transport (or left out on request). */
@Injectable()
export class ClientTransfer implements TenantTransferSection {
  readonly order = 30;
  readonly types = ['client'] as const;
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(ClientEntity) private readonly clients: TenantRepository<ClientEntity>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  async exportTo(ctx: TransferExportContext): Promise<void> {
    await forEachPage(
      (skip, take) =>
        this.clients.find(ctx.tenantId, { order: { client_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const c of rows) {
          const record: TransferRecord = { type: 'client', client_id: c.client_id };
          for (const k of PLAIN) record[k] = c[k];
          if (c.secret_sealed) {
            const secret = this.box.openString(
              c.secret_sealed,
              clientSecretAad(ctx.tenantId, c.client_id),
            );
            record.client_secret = ctx.secrets.wrap(secret, `client:${c.client_id}`);
          }
          record.created_at = c.created_at.toISOString();
          record.updated_at = c.updated_at.toISOString();
          await ctx.emit(record);
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const ids = records.map((r) => field(r, 'client_id'));
    for (const id of ids) {
      if (!CLIENT_ID_PATTERN.test(id))
        throw new TransferFormatError(`client ${id}: invalid client_id`);
    }
    const kept = new Map(
      (
        await this.clients.find(
          ctx.tenantId,
          { where: { client_id: In(ids) }, select: { client_id: true, secret_sealed: true } },
          ctx.manager,
        )
      ).map((c) => [c.client_id, c.secret_sealed]),
    );
    const now = new Date();
    const rows = records.map((r) => {
      const clientId = field(r, 'client_id');
      const row: Record<string, unknown> = { client_id: clientId };
      for (const k of PLAIN) row[k] = r[k] ?? null;
      const secret = ctx.secrets.unwrap(r.client_secret, `client:${clientId}`);
      if (secret) {
        row.secret_sealed = this.box.seal(secret, clientSecretAad(ctx.tenantId, clientId));
      } else {
        // Omitted from the document: a client already here keeps its secret; a new confidential
        // one gets a random secret nobody knows, until an admin regenerates it.
        row.secret_sealed = kept.get(clientId) ?? null;
        if (r.client_type === 'confidential' && !row.secret_sealed) {
          row.secret_sealed = this.box.seal(
            randomToken(32),
            clientSecretAad(ctx.tenantId, clientId),
          );
          ctx.count('clients_without_secret');
        }
      }
      row.created_at = dateOf(r, 'created_at') ?? now;
      row.updated_at = dateOf(r, 'updated_at') ?? now;
      return row as Partial<ClientEntity>;
    });
    await this.clients.upsert(ctx.tenantId, rows, ['client_id'], ctx.manager);
    ctx.count('clients', rows.length);
  }
}
