import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PassThrough, type Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import {
  TransportError,
  TransportSecrets,
  type SecretsMode,
  type TransportHeader,
} from '../../libs/crypto/index.js';
import {
  crossTenant,
  TenantEvents,
  tenantIdProblem,
  TransferFormatError,
  type TenantTransferSection,
  type TransferImportContext,
  type TransferRecord,
} from '../../libs/tenancy/index.js';
import { ClientTransfer } from '../clients/client-transfer.js';
import { badRequest, notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ProtectedAppTransfer } from '../forward-auth/protected-app-transfer.js';
import { GroupTransfer } from '../groups/group-transfer.js';
import { MfaTransfer } from '../mfa/mfa-transfer.js';
import { PasskeyTransfer } from '../passkeys/passkey-transfer.js';
import { PinPatternTransfer } from '../pin-pattern/pin-pattern-transfer.js';
import { RegistrationTransfer } from '../registration/registration-transfer.js';
import { SigningKeyTransfer } from '../signing-keys/signing-key-transfer.js';
import { TenantTransfer } from '../tenants/tenant-transfer.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UpstreamTransfer } from '../upstream/upstream-transfer.js';
import { UserTransfer } from '../users/user-transfer.js';
import { readRecords, writeLine } from './ndjson.js';

export const EXPORT_FORMAT = 'idp-tenant-export';
export const EXPORT_VERSION = 1;
const BATCH = 500;

export interface ExportOptions {
  secrets: SecretsMode;
  passphrase?: string;
  signingKeys: boolean;
}

export interface ImportOptions {
  /** Import under this id instead of the document's. */
  tenantId?: string;
  passphrase?: string;
}

export interface ImportReport {
  tenant_id: string;
  source_tenant_id: string;
  created: boolean;
  counts: Record<string, number>;
}

/** A problem the API answers with 400 (bad document, wrong passphrase, missing option). */
function refused(error: unknown): unknown {
  if (error instanceof TransferFormatError || error instanceof TransportError) {
    return badRequest(error.message);
  }
  // A value the schema refuses (a check, not-null or reference rule): the document is wrong, not
  // the server.
  const driver = (
    error as { driverError?: { code?: string; constraint?: string; column?: string } }
  ).driverError;
  if (driver?.code === '23514' || driver?.code === '23502' || driver?.code === '23503') {
    return badRequest(
      `The document holds a value the schema refuses (${driver.constraint ?? driver.column ?? driver.code})`,
    );
  }
  return error;
}

/**
 * Tenant export and import (decision 0024): a versioned NDJSON document, written and read by
 * the modules that own the tables (TenantTransferSection); secrets are re-sealed between this
 * deployment's master key and the document's transport key. An import is one transaction.
 */
@Injectable()
export class TransferService {
  private readonly logger = new Logger('TenantTransfer');
  private readonly sections: TenantTransferSection[];
  private readonly byType = new Map<string, TenantTransferSection>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly events: TenantEvents,
    tenant: TenantTransfer,
    signingKeys: SigningKeyTransfer,
    clients: ClientTransfer,
    users: UserTransfer,
    passkeys: PasskeyTransfer,
    mfa: MfaTransfer,
    groups: GroupTransfer,
    pinPattern: PinPatternTransfer,
    registration: RegistrationTransfer,
    protectedApps: ProtectedAppTransfer,
    upstream: UpstreamTransfer,
  ) {
    this.sections = [
      tenant,
      signingKeys,
      clients,
      registration,
      users,
      passkeys,
      mfa,
      pinPattern,
      groups,
      protectedApps,
      upstream,
    ].toSorted((a, b) => a.order - b.order);
    for (const s of this.sections) for (const type of s.types) this.byType.set(type, s);
  }

  /** Starts an export; answers the stream at once (errors before the first byte are problems). */
  async export(tenantId: string, options: ExportOptions): Promise<Readable> {
    if (!(await this.tenants.exists(tenantId))) throw notFound('Tenant');
    const secrets = await TransportSecrets.forExport(options.secrets, options.passphrase).catch(
      (e: unknown) => {
        throw refused(e);
      },
    );
    const out = new PassThrough();
    void this.pump(tenantId, options, secrets, out);
    return out;
  }

  private async pump(
    tenantId: string,
    options: ExportOptions,
    secrets: TransportSecrets,
    out: PassThrough,
  ) {
    // One snapshot for the whole document on PostgreSQL. PGlite has one connection, which a
    // long transaction would hold for every other request: there the sections read as they go.
    const runner = this.config.databaseUrl ? this.dataSource.createQueryRunner() : null;
    const counts: Record<string, number> = {};
    try {
      if (runner) {
        await runner.connect();
        await runner.startTransaction('REPEATABLE READ');
      }
      const manager: EntityManager = runner?.manager ?? this.dataSource.manager;
      const emit = async (record: TransferRecord) => {
        counts[record.type] = (counts[record.type] ?? 0) + 1;
        await writeLine(out, record);
      };
      await writeLine(out, {
        type: 'header',
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        tenant_id: tenantId,
        exported_at: new Date().toISOString(),
        server_version: this.config.version,
        secrets: secrets.header,
        signing_keys: options.signingKeys && secrets.carriesSecrets,
      });
      for (const section of this.sections) {
        await section.exportTo({
          tenantId,
          manager,
          secrets,
          signingKeys: options.signingKeys,
          emit,
        });
      }
      // The trailer lets an import tell a complete document from a cut one.
      await writeLine(out, { type: 'end', counts });
      out.end();
    } catch (error) {
      this.logger.warn(`export of ${tenantId} stopped: ${(error as Error).message}`);
      out.destroy(error as Error);
    } finally {
      if (runner) {
        await runner.rollbackTransaction().catch(() => undefined);
        await runner.release();
      }
    }
  }

  /** Reads a document and writes it into one tenant, all or nothing. */
  async import(input: Readable, options: ImportOptions): Promise<ImportReport> {
    try {
      return await this.importRecords(readRecords(input), options);
    } catch (error) {
      throw refused(error);
    } finally {
      input.resume();
    }
  }

  private async importRecords(
    records: AsyncGenerator<{ line: number; record: TransferRecord }>,
    options: ImportOptions,
  ): Promise<ImportReport> {
    const first = await records.next();
    const header = first.done ? undefined : first.value.record;
    if (!header || header.type !== 'header' || header.format !== EXPORT_FORMAT) {
      throw new TransferFormatError(`the document does not start with an ${EXPORT_FORMAT} header`);
    }
    if (header.version !== EXPORT_VERSION) {
      throw new TransferFormatError(
        `document version ${String(header.version)} is not one this server reads (${EXPORT_VERSION})`,
      );
    }
    const sourceTenantId = String(header.tenant_id);
    const tenantId = options.tenantId ?? sourceTenantId;
    const problem = tenantIdProblem(tenantId);
    if (problem)
      throw badRequest(`tenant_id ${problem}`, [{ field: 'tenant_id', message: problem }]);
    const secrets = await TransportSecrets.forImport(
      header.secrets as TransportHeader,
      options.passphrase,
    );
    const counts: Record<string, number> = {};
    await this.dataSource.transaction(async (manager) => {
      // Two imports of one tenant at once would interleave their upserts: one waits.
      await crossTenant(manager).sql(
        'tenant_import_lock',
        'SELECT pg_advisory_xact_lock(hashtext($1))',
        [`tenant-import:${tenantId}`],
      );
      const ctx: TransferImportContext = {
        tenantId,
        sourceTenantId,
        manager,
        secrets,
        state: new Map(),
        count: (name, by = 1) => (counts[name] = (counts[name] ?? 0) + by),
      };
      await this.apply(records, ctx);
    });
    this.events.emit({ type: 'changed', tenantId });
    const created = (counts.tenant_created ?? 0) > 0;
    delete counts.tenant_created;
    return { tenant_id: tenantId, source_tenant_id: sourceTenantId, created, counts };
  }

  /** Batches consecutive records of one type; checks order, completeness and the trailer. */
  private async apply(
    records: AsyncGenerator<{ line: number; record: TransferRecord }>,
    ctx: TransferImportContext,
  ) {
    const read: Record<string, number> = {};
    let batch: TransferRecord[] = [];
    let lastOrder = 0;
    let ended: TransferRecord | null = null;
    const flush = async () => {
      if (!batch.length) return;
      const type = batch[0]!.type;
      await this.byType.get(type)!.importBatch(ctx, type, batch);
      batch = [];
    };
    for await (const { line, record } of records) {
      if (ended) throw new TransferFormatError(`line ${line}: records after the end record`);
      if (record.type === 'end') {
        await flush();
        ended = record;
        continue;
      }
      const section = this.byType.get(record.type);
      if (!section)
        throw new TransferFormatError(`line ${line}: unknown record type ${record.type}`);
      if (section.order < lastOrder) {
        throw new TransferFormatError(`line ${line}: ${record.type} records out of order`);
      }
      if (!read.tenant && record.type !== 'tenant') {
        throw new TransferFormatError(`line ${line}: the tenant record must come first`);
      }
      lastOrder = section.order;
      read[record.type] = (read[record.type] ?? 0) + 1;
      if (batch.length && (batch[0]!.type !== record.type || batch.length >= BATCH)) await flush();
      batch.push(record);
    }
    if (!ended) throw new TransferFormatError('the document has no end record: it was cut short');
    const expected = (ended.counts ?? {}) as Record<string, number>;
    for (const type of new Set([...Object.keys(expected), ...Object.keys(read)])) {
      if ((expected[type] ?? 0) !== (read[type] ?? 0)) {
        throw new TransferFormatError(
          `the end record counts ${expected[type] ?? 0} ${type} records, the document has ${read[type] ?? 0}`,
        );
      }
    }
    for (const section of this.sections) await section.finish?.(ctx);
  }
}
