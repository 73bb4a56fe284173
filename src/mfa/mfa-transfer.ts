import { Inject, Injectable } from '@nestjs/common';
import { In, IsNull, Not } from 'typeorm';
import { SecretBox, sha256Hex } from '../../libs/crypto/index.js';
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
import { isUuid } from '../common/ids.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RecoveryCodeEntity, UserTotpEntity } from './mfa.entities.js';
import {
  importedRecoveryHash,
  nativeRecoveryKey,
  recoveryKeyAad,
  recoveryKeyOf,
} from './recovery-keys.js';
import { totpAad } from './totp.service.js';

const KEYS = 'mfa:recovery-keys';
const WRITTEN = 'mfa:written-codes';

/**
 * TOTP secrets (opened here, sealed for transport) and recovery codes (their HMACs plus the
 * key they were made with, sealed for transport). Without secrets in the document neither
 * travels: the users enrol again.
 */
@Injectable()
export class MfaTransfer implements TenantTransferSection {
  readonly order = 60;
  readonly types = ['totp', 'recovery_key', 'recovery_code'] as const;
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(UserTotpEntity) private readonly totp: TenantRepository<UserTotpEntity>,
    @InjectTenantRepository(RecoveryCodeEntity)
    private readonly recovery: TenantRepository<RecoveryCodeEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  async exportTo(ctx: TransferExportContext): Promise<void> {
    if (!ctx.secrets.carriesSecrets) return;
    const t = ctx.tenantId;
    await forEachPage(
      (skip, take) => this.totp.find(t, { order: { user_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const r of rows) {
          const secret = this.box.openString(r.secret_sealed, totpAad(t, r.user_id));
          await ctx.emit({
            type: 'totp',
            user_id: r.user_id,
            secret: ctx.secrets.wrap(secret, `totp:${r.user_id}`),
            is_enabled: r.is_enabled,
            last_used_step: r.last_used_step === null ? null : Number(r.last_used_step),
            created_at: r.created_at.toISOString(),
            enabled_at: r.enabled_at?.toISOString() ?? null,
          });
        }
      },
    );
    const native = nativeRecoveryKey(this.config.masterKey, t);
    const sent = new Set<string>();
    await forEachPage(
      (skip, take) =>
        this.recovery.find(
          t,
          { order: { user_id: 'ASC', code_hash: 'ASC' }, skip, take },
          ctx.manager,
        ),
      async (rows) => {
        for (const r of rows) {
          const { key, hash } = recoveryKeyOf(r.code_hash, t, this.box, native);
          const keyId = sha256Hex(key).slice(0, 16);
          if (!sent.has(keyId)) {
            sent.add(keyId);
            const wrapped = ctx.secrets.wrap(key.toString('hex'), `recovery_key:${keyId}`);
            await ctx.emit({ type: 'recovery_key', key_id: keyId, key: wrapped });
          }
          await ctx.emit({
            type: 'recovery_code',
            user_id: r.user_id,
            key_id: keyId,
            hash,
            created_at: r.created_at.toISOString(),
            used_at: r.used_at?.toISOString() ?? null,
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]) {
    if (type === 'totp') return this.importTotp(ctx, records);
    if (type === 'recovery_key') return this.importKeys(ctx, records);
    return this.importCodes(ctx, records);
  }

  private async importTotp(ctx: TransferImportContext, records: TransferRecord[]) {
    const ids = records.map((r) => field(r, 'user_id'));
    if (!ids.every(isUuid)) throw new TransferFormatError('totp record: user_id is not a UUID');
    // The replay guard never goes back: an older document must not re-open used codes.
    const steps = new Map(
      (
        await this.totp.find(
          ctx.tenantId,
          { where: { user_id: In(ids) }, select: { user_id: true, last_used_step: true } },
          ctx.manager,
        )
      ).map((r) => [r.user_id, Number(r.last_used_step ?? -1)]),
    );
    const rows: Array<Partial<UserTotpEntity>> = [];
    for (const r of records) {
      const userId = field(r, 'user_id');
      const secret = ctx.secrets.unwrap(r.secret, `totp:${userId}`);
      if (!secret) continue;
      const step = Math.max(Number(r.last_used_step ?? -1), steps.get(userId) ?? -1);
      rows.push({
        user_id: userId,
        secret_sealed: this.box.seal(secret, totpAad(ctx.tenantId, userId)),
        is_enabled: r.is_enabled === true,
        last_used_step: step < 0 ? null : String(step),
        failed_attempts: 0,
        failed_at: null,
        created_at: dateOf(r, 'created_at') ?? new Date(),
        enabled_at: dateOf(r, 'enabled_at'),
      });
    }
    await this.totp.upsert(ctx.tenantId, rows, ['user_id'], ctx.manager);
    ctx.count('totp', rows.length);
  }

  private async importKeys(ctx: TransferImportContext, records: TransferRecord[]) {
    const keys = (ctx.state.get(KEYS) as Map<string, string | null> | undefined) ?? new Map();
    ctx.state.set(KEYS, keys);
    const native = nativeRecoveryKey(this.config.masterKey, ctx.tenantId);
    // A key already sealed here by an earlier import keeps its sealed form, so the stored
    // values (and which codes are spent) stay the same when a document is imported again.
    const sealedHere = await this.recovery
      .query(ctx.tenantId, 'r', ctx.manager)
      .select(`DISTINCT split_part(r.code_hash, '~', 2)`, 'sealed')
      .andWhere(`r.code_hash LIKE 'x1~%'`)
      .getRawMany<{ sealed: string }>();
    for (const r of records) {
      const keyId = field(r, 'key_id');
      const hex = ctx.secrets.unwrap(r.key, `recovery_key:${keyId}`);
      if (!hex) continue;
      const key = Buffer.from(hex, 'hex');
      if (key.length !== 32) throw new TransferFormatError(`recovery_key ${keyId}: not 32 bytes`);
      if (key.equals(native)) {
        keys.set(keyId, null); // same master key and tenant id: the codes are native here
        continue;
      }
      const known = sealedHere.find(({ sealed }) => {
        try {
          return this.box.openString(sealed, recoveryKeyAad(ctx.tenantId)) === hex;
        } catch {
          return false;
        }
      });
      keys.set(keyId, known?.sealed ?? this.box.seal(hex, recoveryKeyAad(ctx.tenantId)));
    }
  }

  private async importCodes(ctx: TransferImportContext, records: TransferRecord[]) {
    const keys = ctx.state.get(KEYS) as Map<string, string | null> | undefined;
    const written = (ctx.state.get(WRITTEN) as Map<string, Set<string>> | undefined) ?? new Map();
    ctx.state.set(WRITTEN, written);
    const rows: Array<Partial<RecoveryCodeEntity>> = [];
    for (const r of records) {
      const userId = field(r, 'user_id');
      const keyId = field(r, 'key_id');
      if (!isUuid(userId) || !keys?.has(keyId)) continue;
      const sealed = keys.get(keyId)!;
      const hash = field(r, 'hash');
      const codeHash = sealed === null ? hash : importedRecoveryHash(sealed, hash);
      rows.push({
        user_id: userId,
        code_hash: codeHash,
        created_at: dateOf(r, 'created_at') ?? new Date(),
        used_at: dateOf(r, 'used_at'),
      });
      if (!written.has(userId)) written.set(userId, new Set());
      written.get(userId)!.add(codeHash);
    }
    if (!rows.length) return;
    // A code spent here stays spent whatever an older document says.
    const spent = new Map(
      (
        await this.recovery.find(
          ctx.tenantId,
          { where: { user_id: In(rows.map((r) => r.user_id!)), used_at: Not(IsNull()) } },
          ctx.manager,
        )
      ).map((r) => [`${r.user_id}:${r.code_hash}`, r.used_at]),
    );
    for (const row of rows)
      row.used_at = spent.get(`${row.user_id}:${row.code_hash}`) ?? row.used_at;
    await this.recovery.upsert(ctx.tenantId, rows, ['user_id', 'code_hash'], ctx.manager);
    ctx.count('recovery_codes', rows.length);
  }

  /** The document's codes replace the user's: codes it does not list go. */
  async finish(ctx: TransferImportContext): Promise<void> {
    const written = ctx.state.get(WRITTEN) as Map<string, Set<string>> | undefined;
    for (const [userId, hashes] of written ?? []) {
      await this.recovery.delete(
        ctx.tenantId,
        { user_id: userId, code_hash: Not(In([...hashes])) },
        ctx.manager,
      );
    }
  }
}
