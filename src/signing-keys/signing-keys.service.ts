import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { importJWK, SignJWT, type JWK } from 'jose';
import { DomainError } from '../common/domain-error.js';
import { LRUCache } from 'lru-cache';
import { DataSource, In, LessThanOrEqual, MoreThan, type EntityManager } from 'typeorm';
import { SecretBox } from '../../libs/crypto/index.js';
import {
  SIGNING_ALGS,
  SigningKeyPool,
  type GeneratedSigningKey,
  type SigningAlg,
} from '../../libs/crypto/keys.js';
import {
  crossTenant,
  InjectTenantRepository,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { page, type Page } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import {
  DEFAULT_GRACE_SECONDS,
  type RotateSigningKeysDto,
  type RotationResultDto,
  type SigningKeyDto,
  type SigningKeyListQuery,
} from './dto/signing-key.dto.js';
import { SigningKeyEntity, type SigningKeyState } from './signing-key.entity.js';

/**
 * A deep copy made with JSON: the values are JSON data, and unlike structuredClone the copy's
 * objects belong to the caller's realm, which oidc-provider's plain-object checks require
 * (under jest's VM modules structuredClone answers objects of another realm).
 */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const JWKS_CACHE_TTL_MS = 10 * 60_000;
/** The keys made with the tenant; RS256 follows on first use (createMissingKeys). */
export const BIRTH_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA'];
const RETIRE_INTERVAL_MS = 60_000;
const RETIRE_BATCH = 500;
/** Retired keys stay listed this long (for audit), then their rows go. */
const RETIRED_KEEP_DAYS = 30;

interface TenantJwks {
  /** Private JWKs in the order oidc-provider should see them. */
  provider: JWK[];
  public: JWK[];
}

/** A grace key whose period ended counts as retired at once, before the job marks it. */
function effectiveState(k: SigningKeyEntity, now = Date.now()): SigningKeyState {
  if (k.state === 'grace' && k.expires_at && k.expires_at.getTime() <= now) return 'retired';
  return k.state;
}

export function toSigningKeyDto(k: SigningKeyEntity): SigningKeyDto {
  return {
    kid: k.kid,
    alg: k.alg,
    state: effectiveState(k),
    created_at: k.created_at.toISOString(),
    rotated_at: k.rotated_at?.toISOString() ?? null,
    expires_at: k.expires_at?.toISOString() ?? null,
    public_jwk: { ...k.public_jwk },
  };
}

/**
 * oidc-provider signs with the first key of an alg it finds, so: active keys first, RS256
 * (the default ID token alg) before the others, then grace keys, newest first, which are
 * only there so tokens they signed still verify.
 */
/** What a sealed private JWK is bound to: its tenant and kid. */
export const signingKeyAad = (tenantId: string, kid: string) =>
  `tenant:${tenantId}:signing-key:${kid}`;

function jwksOrder(a: SigningKeyEntity, b: SigningKeyEntity): number {
  if (a.state !== b.state) return a.state === 'active' ? -1 : 1;
  if (a.state === 'active') return SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg);
  return b.created_at.getTime() - a.created_at.getTime();
}

/**
 * Per-tenant signing keys: one active ES256 and EdDSA key from the tenant's birth, RS256 from its
 * first use (decision 0035);
 * rotation puts a new key in front and keeps the old one verifying for a grace period.
 * Private JWKs are sealed with the master key, bound to (tenant, kid).
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private readonly box: SecretBox;
  private readonly pool = new SigningKeyPool(4, 2);
  /** Spares decrypts when a provider is rebuilt; live providers hold their own keys. */
  private readonly jwks = new LRUCache<string, TenantJwks>({ max: 1_000, ttl: JWKS_CACHE_TTL_MS });
  /** Bumped on every tenant event: a load that raced a change does not cache what it read. */
  private generation = 0;
  private retireTimer?: NodeJS.Timeout;

  constructor(
    @InjectTenantRepository(SigningKeyEntity)
    private readonly keys: TenantRepository<SigningKeyEntity>,
    private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
    private readonly events: TenantEvents,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
    events.subscribe((e) => {
      this.generation += 1;
      this.jwks.delete(e.tenantId);
    });
  }

  onModuleInit() {
    // Inside the transaction that inserts the tenant: a tenant never exists without keys.
    this.events.onCreate((tenantId, m) => this.createInitialKeys(tenantId, m));
    this.retireTimer = setInterval(() => {
      this.retireExpiredKeys().catch((err: unknown) =>
        this.logger.warn({ err }, 'could not retire expired signing keys'),
      );
    }, RETIRE_INTERVAL_MS);
    this.retireTimer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.retireTimer);
    this.pool.close();
  }

  private privateAad(tenantId: string, kid: string) {
    return signingKeyAad(tenantId, kid);
  }

  private rowOf(tenantId: string, key: GeneratedSigningKey, now: Date): Partial<SigningKeyEntity> {
    return {
      kid: key.kid,
      alg: key.alg,
      state: 'active',
      public_jwk: key.publicJwk,
      private_jwk_sealed: this.box.seal(
        JSON.stringify(key.privateJwk),
        this.privateAad(tenantId, key.kid),
      ),
      created_at: now,
      rotated_at: null,
      expires_at: null,
    };
  }

  private generate(algs: readonly SigningAlg[]): Promise<GeneratedSigningKey[]> {
    return Promise.all(algs.map((alg) => this.pool.generate(alg)));
  }

  /** Serialises key changes of one tenant (rotations, lazy creation) across replicas. */
  private async lockTenantKeys(tenantId: string, m: EntityManager) {
    await crossTenant(m).sql('signing_keys_lock', 'SELECT pg_advisory_xact_lock(hashtext($1))', [
      `signing-keys:${tenantId}`,
    ]);
  }

  /**
   * A tenant is born with its ES256 and EdDSA keys (well under a millisecond to make). Its RSA
   * key, tens of milliseconds of CPU, is made the first time the tenant's keys are read (its
   * first provider build, JWKS or key listing), from the pool generated ahead when it has one:
   * a tenant that is never used never pays for it, and creation stays cheap (decision 0035).
   */
  async createInitialKeys(tenantId: string, m: EntityManager): Promise<void> {
    const now = new Date();
    const fresh = await this.generate(BIRTH_ALGS);
    await this.keys.insertIgnoringConflicts(
      tenantId,
      fresh.map((k) => this.rowOf(tenantId, k, now)),
      ['kid'],
      m,
    );
  }

  async list(tenantId: string, q: SigningKeyListQuery): Promise<Page<SigningKeyDto>> {
    // The listing shows every alg's active key, the one made on first use included.
    await this.load(tenantId);
    const now = new Date();
    const where =
      q.state === 'active'
        ? { state: 'active' as const }
        : q.state === 'grace'
          ? { state: 'grace' as const, expires_at: MoreThan(now) }
          : q.state === 'retired'
            ? [
                { state: 'retired' as const },
                { state: 'grace' as const, expires_at: LessThanOrEqual(now) },
              ]
            : undefined;
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    const [rows, total] = await this.keys.findAndCount(tenantId, {
      where,
      order: { created_at: dir, kid: dir },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toSigningKeyDto), total, q);
  }

  /**
   * New active keys for one alg or all; each replaced key stays in the JWKS for
   * `grace_seconds` (verifying only), or retires at once with 0.
   */
  async rotate(tenantId: string, dto: RotateSigningKeysDto = {}): Promise<RotationResultDto> {
    const algs = dto.alg ? [dto.alg] : SIGNING_ALGS;
    const graceSeconds = dto.grace_seconds ?? DEFAULT_GRACE_SECONDS;
    // Generated before the transaction so no lock is held while the thread pool works.
    const fresh = await this.generate(algs);
    const now = new Date();
    const result = await this.dataSource.transaction(async (m) => {
      await this.lockTenantKeys(tenantId, m);
      const replaced = await this.keys.find(
        tenantId,
        { where: { state: 'active', alg: In([...algs]) } },
        m,
      );
      const retiring: Partial<SigningKeyEntity> =
        graceSeconds > 0
          ? {
              state: 'grace',
              rotated_at: now,
              expires_at: new Date(now.getTime() + graceSeconds * 1000),
            }
          : { state: 'retired', rotated_at: now, expires_at: now, private_jwk_sealed: null };
      if (replaced.length) {
        await this.keys.update(tenantId, { kid: In(replaced.map((k) => k.kid)) }, retiring, m);
      }
      const rows = fresh.map((k) => this.rowOf(tenantId, k, now));
      await this.keys.insertIgnoringConflicts(tenantId, rows, ['kid'], m);
      return {
        created: rows.map((r) =>
          toSigningKeyDto({ ...r, tenant_id: tenantId } as SigningKeyEntity),
        ),
        superseded: replaced.map((k) => toSigningKeyDto({ ...k, ...retiring } as SigningKeyEntity)),
      };
    });
    this.events.emit({ type: 'changed', tenantId });
    return result;
  }

  /**
   * Private JWKs (kid, alg, use 'sig') for the tenant's oidc-provider: active keys first with
   * RS256 leading, then grace keys so they only verify. A fresh copy on every call.
   */
  async providerJwks(tenantId: string): Promise<{ keys: JWK[] }> {
    const entry = await this.load(tenantId);
    return { keys: jsonCopy(entry.provider) };
  }

  /**
   * A JWT signed with the tenant's active key of `alg` (what its JWKS publishes), for documents
   * the server issues outside oidc-provider (Entra EAM ID tokens, signed client/tenant info).
   */
  async signJwt(
    tenantId: string,
    claims: Record<string, unknown>,
    o: { alg?: SigningAlg; expiresIn?: string; typ?: string } = {},
  ): Promise<string> {
    const alg = o.alg ?? 'RS256';
    const jwk = (await this.load(tenantId)).provider.find((k) => k.alg === alg);
    if (!jwk) throw new DomainError('unavailable', 'no-signing-key', `No ${alg} signing key`);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid: jwk.kid, typ: o.typ ?? 'JWT' })
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '5m')
      .sign(await importJWK(jwk, alg));
  }

  /** The public JWKS: what `/<tenant>/jwks` publishes (active and grace keys). */
  async publicJwks(tenantId: string): Promise<{ keys: JWK[] }> {
    const entry = await this.load(tenantId);
    return { keys: jsonCopy(entry.public) };
  }

  private async load(tenantId: string): Promise<TenantJwks> {
    const cached = this.jwks.get(tenantId);
    if (cached) return cached;
    const generation = this.generation;
    let rows = await this.usableKeys(tenantId);
    if (SIGNING_ALGS.some((alg) => !rows.some((k) => k.alg === alg && k.state === 'active'))) {
      // A tenant older than signing keys (or one whose key was retired at once) gets what it lacks.
      if (!(await this.tenants.exists(tenantId))) return { provider: [], public: [] };
      await this.createMissingKeys(tenantId);
      rows = await this.usableKeys(tenantId);
    }
    rows.sort(jwksOrder);
    const entry: TenantJwks = {
      provider: rows.map((k) => {
        const sealed = k.private_jwk_sealed;
        if (!sealed) throw new Error(`signing key ${k.kid} of ${tenantId} has no private part`);
        const jwk = JSON.parse(
          this.box.openString(sealed, this.privateAad(tenantId, k.kid)),
        ) as JWK;
        return { ...jwk, kid: k.kid, alg: k.alg, use: 'sig' };
      }),
      public: rows.map((k) => ({ ...k.public_jwk, kid: k.kid, alg: k.alg, use: 'sig' })),
    };
    // The entry must not outlive the first grace period it includes.
    const ends = rows
      .filter((k) => k.state === 'grace' && k.expires_at)
      .map((k) => k.expires_at!.getTime() - Date.now());
    const ttl = Math.max(1, Math.min(JWKS_CACHE_TTL_MS, ...ends));
    if (generation === this.generation && entry.provider.length) {
      this.jwks.set(tenantId, entry, { ttl });
    }
    return entry;
  }

  private async usableKeys(tenantId: string): Promise<SigningKeyEntity[]> {
    const now = new Date();
    return this.keys.find(tenantId, {
      where: [{ state: 'active' }, { state: 'grace', expires_at: MoreThan(now) }],
    });
  }

  private async createMissingKeys(tenantId: string) {
    await this.dataSource.transaction(async (m) => {
      await this.lockTenantKeys(tenantId, m);
      const active = await this.keys.find(tenantId, { where: { state: 'active' } }, m);
      const missing = SIGNING_ALGS.filter((alg) => !active.some((k) => k.alg === alg));
      if (!missing.length) return;
      const now = new Date();
      const fresh = await this.generate(missing);
      await this.keys.insertIgnoringConflicts(
        tenantId,
        fresh.map((k) => this.rowOf(tenantId, k, now)),
        ['kid'],
        m,
      );
    });
  }

  /**
   * Marks keys whose grace period ended as retired and erases their private part; deletes
   * keys retired long ago. Across tenants (a maintenance job, hence cross-tenant SQL rather than
   * the tenant repository), in bounded batches; every tenant touched is told so its provider
   * drops the key. Answers how many keys retired.
   */
  async retireExpiredKeys(): Promise<number> {
    let retired = 0;
    const tenants = new Set<string>();
    for (;;) {
      const rows = await crossTenant(this.dataSource).sql<Array<{ tenant_id: string }>>(
        'signing_keys_retire_expired',
        `UPDATE signing_keys SET state = 'retired', private_jwk_sealed = NULL
          WHERE (tenant_id, kid) IN (
            SELECT tenant_id, kid FROM signing_keys
             WHERE state = 'grace' AND expires_at <= now()
             LIMIT ${RETIRE_BATCH} FOR UPDATE SKIP LOCKED)
          RETURNING tenant_id`,
      );
      // Raw UPDATE ... RETURNING answers [rows, count] on PostgreSQL.
      const list = Array.isArray(rows[0]) ? (rows[0] as Array<{ tenant_id: string }>) : rows;
      for (const r of list) tenants.add(r.tenant_id);
      retired += list.length;
      if (list.length < RETIRE_BATCH) break;
    }
    for (;;) {
      const res = await crossTenant(this.dataSource).sql<unknown>(
        'signing_keys_delete_retired',
        `DELETE FROM signing_keys
          WHERE (tenant_id, kid) IN (
            SELECT tenant_id, kid FROM signing_keys
             WHERE state = 'retired' AND expires_at < now() - interval '${RETIRED_KEEP_DAYS} days'
             LIMIT ${RETIRE_BATCH} FOR UPDATE SKIP LOCKED)`,
      );
      const count = Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
      if (count < RETIRE_BATCH) break;
    }
    for (const tenantId of tenants) this.events.emit({ type: 'changed', tenantId });
    return retired;
  }
}
