import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../../libs/crypto/index.js';
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
import { conflict } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { setupAad } from './opaque-server.js';
import { PinPatternCredentialEntity, PinPatternServerSetupEntity } from './pin-pattern.entities.js';

const SETUP_SEEN = 'pin-pattern:setup';
const SETUP_AAD = 'pin-pattern-setup';

/**
 * PIN/pattern (OPAQUE) credentials. A registration record only works with the tenant's server
 * setup (the OPRF seed it was made with and the server key pair): the setup travels as a secret
 * (opened with this master key, sealed for transport, sealed again with the target's), the
 * records as they are (without the setup they cannot check a guess). Without secrets in the
 * document neither travels: the users enrol again. Login tickets are short-lived and stay.
 */
@Injectable()
export class PinPatternTransfer implements TenantTransferSection {
  readonly order = 65;
  readonly types = ['pin_pattern_setup', 'pin_pattern_credential'] as const;
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(PinPatternServerSetupEntity)
    private readonly setups: TenantRepository<PinPatternServerSetupEntity>,
    @InjectTenantRepository(PinPatternCredentialEntity)
    private readonly credentials: TenantRepository<PinPatternCredentialEntity>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  async exportTo(ctx: TransferExportContext): Promise<void> {
    if (!ctx.secrets.carriesSecrets) return;
    const setup = await this.setups.findOne(ctx.tenantId, {}, ctx.manager);
    if (!setup) return;
    const plain = this.box.openString(setup.setup_sealed, setupAad(ctx.tenantId));
    await ctx.emit({
      type: 'pin_pattern_setup',
      setup: ctx.secrets.wrap(plain, SETUP_AAD),
      created_at: setup.created_at.toISOString(),
    });
    await forEachPage(
      (skip, take) =>
        this.credentials.find(ctx.tenantId, { order: { user_id: 'ASC' }, skip, take }, ctx.manager),
      async (rows) => {
        for (const c of rows) {
          await ctx.emit({
            type: 'pin_pattern_credential',
            user_id: c.user_id,
            credential_identifier: c.credential_identifier,
            registration_record: c.registration_record,
            factors: c.factors,
            proto_version: c.proto_version,
            created_at: c.created_at.toISOString(),
            updated_at: c.updated_at.toISOString(),
            last_used_at: c.last_used_at?.toISOString() ?? null,
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, type: string, records: TransferRecord[]) {
    if (type === 'pin_pattern_setup') return this.importSetup(ctx, records[records.length - 1]!);
    if (!ctx.state.get(SETUP_SEEN)) {
      throw new TransferFormatError(
        'pin_pattern_credential records need the pin_pattern_setup record they were made with',
      );
    }
    const now = new Date();
    const rows = records.map((r) => {
      const userId = field(r, 'user_id');
      if (!isUuid(userId)) throw new TransferFormatError(`pin_pattern_credential: bad user_id`);
      const factors = field<unknown[]>(r, 'factors', 'array');
      if (!factors.every((f) => typeof f === 'string'))
        throw new TransferFormatError('pin_pattern_credential record: factors must be strings');
      return {
        user_id: userId,
        credential_identifier: field(r, 'credential_identifier'),
        registration_record: field(r, 'registration_record'),
        factors: factors as string[],
        proto_version: field(r, 'proto_version'),
        created_at: dateOf(r, 'created_at') ?? now,
        updated_at: dateOf(r, 'updated_at') ?? now,
        last_used_at: dateOf(r, 'last_used_at'),
      };
    });
    await this.credentials.upsert(ctx.tenantId, rows, ['user_id'], ctx.manager);
    ctx.count('pin_pattern_credentials', rows.length);
  }

  /**
   * The document's setup becomes the tenant's. A target that already has another setup keeps
   * it only if it has no credentials made with it: replacing it would void them, so the import
   * is refused (409) rather than silently locking those users out.
   */
  private async importSetup(ctx: TransferImportContext, r: TransferRecord) {
    const plain = ctx.secrets.unwrap(r.setup, SETUP_AAD);
    if (!plain) throw new TransferFormatError('pin_pattern_setup record: setup is missing');
    ctx.state.set(SETUP_SEEN, true);
    const existing = await this.setups.findOne(ctx.tenantId, {}, ctx.manager);
    if (existing) {
      if (this.box.openString(existing.setup_sealed, setupAad(ctx.tenantId)) === plain) return;
      if ((await this.credentials.count(ctx.tenantId, {}, ctx.manager)) > 0) {
        throw conflict(
          'pin_pattern_setup',
          `tenant ${ctx.tenantId} already has PIN/pattern credentials made with another server setup`,
        );
      }
    }
    await this.setups.upsert(
      ctx.tenantId,
      [
        {
          setup_sealed: this.box.seal(plain, setupAad(ctx.tenantId)),
          created_at: dateOf(r, 'created_at') ?? new Date(),
        },
      ],
      [],
      ctx.manager,
    );
    ctx.count('pin_pattern_setup');
  }
}
