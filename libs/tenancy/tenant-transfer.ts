import type { EntityManager } from 'typeorm';
import type { TransportSecrets } from '../crypto/transport.js';

/** One line of an export document (NDJSON): its `type` names the section that reads it. */
export interface TransferRecord {
  type: string;
  [field: string]: unknown;
}

export interface TransferExportContext {
  tenantId: string;
  /** A read-only, repeatable-read transaction: every section sees one snapshot. */
  manager: EntityManager;
  secrets: TransportSecrets;
  /** Whether the operator asked for the tenant's signing keys. */
  signingKeys: boolean;
  /** Writes one record (waits while the reader is slower than the database). */
  emit(record: TransferRecord): Promise<void>;
}

export interface TransferImportContext {
  /** The tenant written to (the document's own id or the one the operator chose). */
  tenantId: string;
  /** The tenant id the document was exported from. */
  sourceTenantId: string;
  /** The one transaction of the import: everything or nothing. */
  manager: EntityManager;
  secrets: TransportSecrets;
  /** Counts for the import report, by name (`users`, `clients_without_secret`, ...). */
  count(name: string, by?: number): void;
  /** Scratch space shared by one section's batches (e.g. references to apply at the end). */
  state: Map<string, unknown>;
}

/**
 * A module's share of a tenant export: it writes its own tables' rows and reads them back,
 * re-sealing secrets for this deployment's master key. Sections run in `order` on export and
 * their records come back in that order on import, so references point backwards only.
 */
export interface TenantTransferSection {
  readonly order: number;
  /** The record types this section writes and reads. */
  readonly types: readonly string[];
  exportTo(ctx: TransferExportContext): Promise<void>;
  /** Upserts a batch of records of one type (ids are kept, so a second import converges). */
  importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]): Promise<void>;
  /** After every record: what needs the whole document (deferred references, missing keys). */
  finish?(ctx: TransferImportContext): Promise<void>;
}

/** Rows of one table in stable pages, so an export never holds a whole table in memory. */
export async function forEachPage<T>(
  load: (offset: number, limit: number) => Promise<T[]>,
  each: (rows: T[]) => Promise<void>,
  limit = 500,
): Promise<void> {
  for (let offset = 0; ; offset += limit) {
    const rows = await load(offset, limit);
    if (rows.length) await each(rows);
    if (rows.length < limit) return;
  }
}

/** A record field as a string, or a clear error naming the record. */
export function field<T = string>(r: TransferRecord, name: string, kind: string = 'string'): T {
  const v = r[name];
  if (kind === 'array' ? !Array.isArray(v) : typeof v !== kind) {
    throw new TransferFormatError(`${r.type} record: ${name} must be a ${kind}`);
  }
  return v as T;
}

/** Optional field: undefined/null pass, anything else must be of `kind`. */
export function optional<T = string>(
  r: TransferRecord,
  name: string,
  kind: string = 'string',
): T | null {
  const v = r[name];
  if (v === undefined || v === null) return null;
  return field<T>(r, name, kind);
}

/** A date field (ISO string) or null. */
export function dateOf(r: TransferRecord, name: string): Date | null {
  const v = optional(r, name);
  if (v === null) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new TransferFormatError(`${r.type} record: ${name} is not a date`);
  return d;
}

/** The document is not one this version reads; the API answers 400 with the message. */
export class TransferFormatError extends Error {}
