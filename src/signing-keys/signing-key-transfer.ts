import { Inject, Injectable } from '@nestjs/common';
import type { JWK } from 'jose';
import { In, Not } from 'typeorm';
import { SecretBox } from '../../libs/crypto/index.js';
import { hasPrivateMembers, SIGNING_ALGS, type SigningAlg } from '../../libs/crypto/keys.js';
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
import { DEFAULT_GRACE_SECONDS } from './dto/signing-key.dto.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { signingKeyAad, SigningKeysService } from './signing-keys.service.js';

/**
 * Signing keys travel only when asked for (`signing_keys`) and when the document carries
 * secrets: the private JWK is opened with this deployment's master key and sealed for transport.
 * Retired keys (no private part) stay behind. A tenant imported without keys gets fresh ones.
 */
@Injectable()
export class SigningKeyTransfer implements TenantTransferSection {
  readonly order = 20;
  readonly types = ['signing_key'] as const;
  private readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(SigningKeyEntity)
    private readonly keys: TenantRepository<SigningKeyEntity>,
    private readonly service: SigningKeysService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  async exportTo(ctx: TransferExportContext): Promise<void> {
    if (!ctx.signingKeys || !ctx.secrets.carriesSecrets) return;
    await forEachPage(
      (skip, take) =>
        this.keys.find(
          ctx.tenantId,
          { where: { state: Not('retired') }, order: { kid: 'ASC' }, skip, take },
          ctx.manager,
        ),
      async (rows) => {
        for (const k of rows) {
          if (!k.private_jwk_sealed) continue;
          const privateJwk = this.box.openString(
            k.private_jwk_sealed,
            signingKeyAad(ctx.tenantId, k.kid),
          );
          await ctx.emit({
            type: 'signing_key',
            kid: k.kid,
            alg: k.alg,
            state: k.state,
            public_jwk: k.public_jwk,
            private_jwk: ctx.secrets.wrap(privateJwk, `signing_key:${k.kid}`),
            created_at: k.created_at.toISOString(),
            rotated_at: k.rotated_at?.toISOString() ?? null,
            expires_at: k.expires_at?.toISOString() ?? null,
          });
        }
      },
    );
  }

  async importBatch(ctx: TransferImportContext, _type: string, records: TransferRecord[]) {
    const rows: Array<Partial<SigningKeyEntity>> = [];
    for (const r of records) {
      const kid = field(r, 'kid');
      const alg = field(r, 'alg') as SigningAlg;
      const state = field(r, 'state');
      if (!SIGNING_ALGS.includes(alg) || (state !== 'active' && state !== 'grace')) {
        throw new TransferFormatError(`signing_key ${kid}: unknown alg or state`);
      }
      const privateJwk = ctx.secrets.unwrap(r.private_jwk, `signing_key:${kid}`);
      if (!privateJwk) continue;
      const publicJwk = field<JWK>(r, 'public_jwk', 'object');
      const parsed = JSON.parse(privateJwk) as JWK;
      if (hasPrivateMembers(publicJwk) || parsed.kid !== kid || publicJwk.kid !== kid) {
        throw new TransferFormatError(`signing_key ${kid}: key material does not match its kid`);
      }
      rows.push({
        kid,
        alg,
        state,
        public_jwk: publicJwk,
        private_jwk_sealed: this.box.seal(privateJwk, signingKeyAad(ctx.tenantId, kid)),
        created_at: dateOf(r, 'created_at') ?? new Date(),
        rotated_at: dateOf(r, 'rotated_at'),
        expires_at: dateOf(r, 'expires_at'),
      });
    }
    if (!rows.length) return;
    // One active key per alg: the tenant's own active keys the document replaces step back to grace.
    const activeAlgs = rows.filter((k) => k.state === 'active').map((k) => k.alg!);
    if (activeAlgs.length) {
      const now = new Date();
      await this.keys.update(
        ctx.tenantId,
        { state: 'active', alg: In(activeAlgs), kid: Not(In(rows.map((k) => k.kid!))) },
        {
          state: 'grace',
          rotated_at: now,
          expires_at: new Date(now.getTime() + DEFAULT_GRACE_SECONDS * 1000),
        },
        ctx.manager,
      );
    }
    await this.keys.upsert(ctx.tenantId, rows, ['kid'], ctx.manager);
    ctx.count('signing_keys', rows.length);
  }

  /** A tenant without an active key of some alg (none in the document) gets one now. */
  async finish(ctx: TransferImportContext): Promise<void> {
    await this.service.createInitialKeys(ctx.tenantId, ctx.manager);
  }
}
