import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThan, type Repository } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/scopes.js';
import { page, type Page } from '../common/pagination.js';
import { badRequest, notFound } from '../common/problem.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ClusterSignals } from '../events/cluster-signals.js';
import {
  REDIS_BREAKER,
  REDIS_CLIENT,
  type RedisBreaker,
  type RedisClient,
} from '../redis/redis.module.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { BlockEntity, PlatformBlockEntity, type BlockKind } from './block.entity.js';
import { DurableBlocks, type BlockRow } from './durable-blocks.js';
import { FallbackCounterStore, type OutagePolicy } from './fallback-counter-store.js';
import {
  MemoryCounterStore,
  RedisCounterStore,
  type CounterStatus,
  type CounterStore,
} from './counter-store.js';
import type { BlockDto, BlockListQuery } from './dto/block.dto.js';
import {
  isIpSubject,
  normalizeSubject,
  PLATFORM_SCOPE,
  subjectKey,
  subjectsOf,
  type AttemptSubject,
  type Subject,
} from './subjects.js';
import { DomainError } from '../common/domain-error.js';
import { onceEvery } from '../common/throttle.js';

export type { AttemptSubject } from './subjects.js';

/** What a list or an unblock of the API names: a login covers the account it resolved to. */
export type BlockListKind = 'ip' | 'user' | 'client';
const LISTED: Record<BlockListKind, BlockKind[]> = {
  ip: ['ip'],
  user: ['user', 'account'],
  client: ['client'],
};

export interface BlockCheck {
  blocked: boolean;
  /** Seconds until the longest running block ends; 0 when not blocked. */
  retryAfterSeconds: number;
  /** What is blocked, when something is. */
  kind?: BlockKind;
  /**
   * Whether failures are being counted for the username at check time. `recordSuccess` with this
   * check skips the reset when there is nothing to forgive (one store round trip less per sign-in
   * and per client authentication).
   */
  userFailures?: boolean;
}

const NOT_BLOCKED: BlockCheck = { blocked: false, retryAfterSeconds: 0 };
/** BLOCKER_REDIS_OUTAGE=closed: what a check answers while nothing can be counted. */
const COUNTING_DOWN: BlockCheck = { blocked: true, retryAfterSeconds: 30 };
/** The cluster signal sent when a scope's blocks change (the scope: a tenant id or @platform). */
export const BLOCKS_CHANGED = 'blocks';

/**
 * The answer an API gives a blocked caller: 429 with Retry-After. The hosted login page shows the
 * wrong-password message instead, so a block never tells whether an account exists.
 */
export function tooManyAttempts(check: BlockCheck): DomainError {
  return new DomainError(
    'too-many',
    'too-many-requests',
    'Too many failed attempts; try again later',
    {
      title: 'Too many requests',
      retryAfterSeconds: Math.max(1, check.retryAfterSeconds),
    },
  );
}

/**
 * Brute-force blocker. Every credential check calls `check` first (before any hash is computed),
 * then `recordFailure` or `recordSuccess`. Counters live in Redis (or memory); a block that
 * starts is written to `blocks` (`platform_blocks`), and that row is the block: checks enforce
 * the database record (through DurableBlocks, a per-replica cache of it), so the list and the
 * enforcement agree, and a Redis restart or outage forgets counts, never blocks.
 */
@Injectable()
export class BlockerService implements OnApplicationShutdown {
  private readonly logger = new Logger('Blocker');
  private readonly store: CounterStore;
  private readonly redisStore?: RedisCounterStore;
  private readonly storeWarning = onceEvery(10_000);
  private readonly policy: OutagePolicy;
  /** The enforced record, cached per scope. */
  readonly durable: DurableBlocks;

  constructor(
    @Inject(REDIS_CLIENT) redis: RedisClient,
    @Inject(REDIS_BREAKER) breaker: RedisBreaker | null,
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectTenantRepository(BlockEntity) private readonly blocks: TenantRepository<BlockEntity>,
    @InjectRepository(PlatformBlockEntity)
    private readonly platformBlocks: Repository<PlatformBlockEntity>,
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly signals: ClusterSignals,
  ) {
    this.policy = config.blockerRedisOutage;
    if (redis) {
      this.redisStore = new RedisCounterStore(redis);
      this.store =
        this.policy === 'local'
          ? new FallbackCounterStore(this.redisStore, () => breaker?.isOpen ?? false)
          : this.redisStore;
    } else this.store = new MemoryCounterStore();
    this.durable = new DurableBlocks({
      running: (scope, limit) => this.runningRows(scope, limit),
      find: (scope, subjects) => this.findRows(scope, subjects),
    });
    signals.on(BLOCKS_CHANGED, (scope) => this.durable.invalidate(scope));
    audit.onPurge(async (tenantId, _cutoff, manager) => {
      // Expired blocks are history (the audit log has them); the table keeps running ones.
      await this.blocks.delete(
        tenantId,
        { blocked_until: LessThan(new Date(Date.now() - 86_400_000)) },
        manager,
      );
    });
  }

  private async runningRows(scope: string, limit: number): Promise<BlockRow[]> {
    const select = { kind: true, subject: true, blocked_until: true } as const;
    const where = { blocked_until: MoreThan(new Date()) };
    if (scope === PLATFORM_SCOPE) return this.platformBlocks.find({ select, where, take: limit });
    return this.blocks.find(scope, { select, where, take: limit });
  }

  private async findRows(scope: string, subjects: Subject[]): Promise<BlockRow[]> {
    const select = { kind: true, subject: true, blocked_until: true } as const;
    const where = subjects.map((s) => ({ kind: s.kind, subject: s.subject }));
    if (scope === PLATFORM_SCOPE) return this.platformBlocks.find({ select, where });
    return this.blocks.find(scope, { select, where });
  }

  /** A scope's block rows changed here: drop the cache here and on every other replica. */
  blocksChanged(scope: string) {
    this.signals.emit(BLOCKS_CHANGED, scope);
  }

  /** The counter store, for the platform-wide blocker (which has no tenant settings). */
  get counters(): CounterStore {
    return this.store;
  }

  /** The Redis store's change feed has a connection of its own: it must not outlive the app. */
  async onApplicationShutdown() {
    await this.redisStore?.close();
  }

  /** Counting is unavailable (Redis down): log (rate-limited); BLOCKER_REDIS_OUTAGE decides. */
  storeFailed(err: unknown) {
    if (this.storeWarning())
      this.logger.warn(
        { err, policy: this.policy },
        'blocker counter store unavailable: recorded blocks still hold',
      );
  }

  /** Is this IP or username blocked right now? Call before computing any password hash. */
  async check(tenantId: string, who: AttemptSubject): Promise<BlockCheck> {
    const known = this.checkNow(tenantId, who);
    if (known) return known;
    const subjects = subjectsOf(tenantId, who);
    const { keys, userKey } = BlockerService.keysOf(subjects);
    let counted: CounterStatus | undefined;
    try {
      counted = this.store.knownStatus(keys, userKey) ?? (await this.store.status(keys, userKey));
    } catch (err) {
      this.storeFailed(err);
    }
    // A block the counters know of is read from the database at once: its row was written
    // before the failure that started it was answered, even if this cache has not heard yet.
    const hinted = counted?.left.some((ms) => ms > 0) ?? false;
    const left = await this.durable.left(tenantId, subjects, hinted);
    const verdict = this.verdict(subjects, userKey, {
      left,
      // Unknown (counting down): a success tries to forgive.
      failures: counted?.failures ?? true,
    });
    // API keys (the platform scope) are not guessable: the policy is for tenant credentials.
    if (!counted && !verdict.blocked && this.policy === 'closed' && tenantId !== PLATFORM_SCOPE)
      return COUNTING_DOWN;
    return verdict;
  }

  /**
   * `check` when it can be answered without a round trip: the cache of recorded blocks vouches
   * that none of the subjects is blocked, and the counters know their state (memory, or
   * Redis's local view of keys with no state: almost every check); undefined otherwise.
   */
  checkNow(tenantId: string, who: AttemptSubject): BlockCheck | undefined {
    const subjects = subjectsOf(tenantId, who);
    if (!subjects.length) return NOT_BLOCKED;
    const left = this.durable.knownClean(tenantId, subjects);
    if (!left) return undefined;
    const { keys, userKey } = BlockerService.keysOf(subjects);
    let status: CounterStatus | undefined;
    try {
      status = this.store.knownStatus(keys, userKey);
    } catch {
      return undefined;
    }
    // A block the counters hold is enforced only once the database confirms it (check()).
    if (!status || status.left.some((ms) => ms > 0)) return undefined;
    return this.verdict(subjects, userKey, { left, failures: status.failures });
  }

  /** The key whose failures a success forgives: the first person or client named. */
  private static keysOf(subjects: Subject[]) {
    return {
      keys: subjects.map((s) => s.key),
      userKey: subjects.find((s) => s.kind !== 'ip')?.key,
    };
  }

  private verdict(
    subjects: Array<{ kind: BlockKind }>,
    userKey: string | undefined,
    { left, failures }: CounterStatus,
  ): BlockCheck {
    const userFailures = userKey === undefined ? undefined : failures;
    let worst = -1;
    for (let i = 0; i < left.length; i++)
      if (left[i] > 0 && (worst < 0 || left[i] > left[worst])) worst = i;
    if (worst < 0) return { ...NOT_BLOCKED, userFailures };
    this.metrics.blockedAttempt(subjects[worst].kind);
    return {
      blocked: true,
      retryAfterSeconds: Math.ceil(left[worst] / 1000),
      kind: subjects[worst].kind,
    };
  }

  /** A credential check failed: count it per IP and per username; may start a block. */
  async recordFailure(
    tenantId: string,
    who: AttemptSubject & { method?: string | null },
  ): Promise<BlockCheck> {
    const subjects = subjectsOf(tenantId, who);
    if (!subjects.length) return NOT_BLOCKED;
    const { block_config: limits } = await this.tenants.settings(tenantId);
    let result = NOT_BLOCKED;
    for (const s of subjects) {
      let outcome;
      try {
        outcome = await this.store.recordFailure(s.key, s.kind === 'ip' ? limits.ip : limits.user);
      } catch (err) {
        this.storeFailed(err);
        continue;
      }
      if (
        outcome.blockStarted &&
        !(await this.blockStarted(tenantId, s, outcome.attempts, outcome.blockedForMs, who))
      )
        continue;
      if (!outcome.blockStarted && outcome.blockedForMs > 0) {
        // The counters say a block runs; only its row makes it one. None (lifted while Redis
        // could not hear of it): clear the counters' stale block so counting starts again.
        const [left] = await this.durable.left(tenantId, [s], true);
        if (!left) {
          await this.store.unblock(s.key).catch((err: unknown) => this.storeFailed(err));
          continue;
        }
      }
      const seconds = Math.ceil(outcome.blockedForMs / 1000);
      if (seconds > result.retryAfterSeconds)
        result = { blocked: true, retryAfterSeconds: seconds, kind: s.kind };
    }
    return result;
  }

  /**
   * A credential check passed: the failures of the login, account or client are forgiven (the
   * IP's are not). `checked` is the check made for exactly these subjects, if any.
   */
  async recordSuccess(tenantId: string, who: AttemptSubject, checked?: BlockCheck): Promise<void> {
    const forgiven = subjectsOf(tenantId, { ...who, ip: null });
    if (checked?.userFailures === false && forgiven.length === 1) return;
    for (const s of forgiven)
      await this.store.resetFailures(s.key).catch((err) => this.storeFailed(err));
  }

  /** Records a block the counters started; false when it could not be (then there is none). */
  private async blockStarted(
    tenantId: string,
    { kind, subject, key }: Subject,
    attempts: number,
    blockMs: number,
    who: AttemptSubject & { method?: string | null },
  ): Promise<boolean> {
    const now = new Date();
    try {
      await this.blocks.sql(
        tenantId,
        'blocks_upsert',
        `INSERT INTO blocks (tenant_id, kind, subject, blocked_until, attempts, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, kind, subject)
         DO UPDATE SET blocked_until = EXCLUDED.blocked_until, attempts = EXCLUDED.attempts,
                       created_at = EXCLUDED.created_at`,
        [kind, subject, new Date(now.getTime() + blockMs), attempts, now],
      );
    } catch (err) {
      // The row is the block: without it the counters must not block either, or the list and
      // the enforcement would disagree. The next failures count again.
      this.logger.warn({ err }, 'could not record a block: not blocking');
      await this.store.unblock(key).catch(() => {});
      return false;
    }
    this.blocksChanged(tenantId);
    this.metrics.blockStarted(kind);
    this.audit.record({
      tenantId,
      type: 'blocker.block',
      actorType: 'system',
      subjectType: kind,
      subjectId: subject,
      ip: who.ip ?? null,
      outcome: 'success',
      method: who.method ?? null,
      details: { attempts, block_seconds: Math.round(blockMs / 1000) },
    });
    return true;
  }

  async list(tenantId: string, kind: BlockListKind, q: BlockListQuery): Promise<Page<BlockDto>> {
    const { size, offset, dir } = q.window();
    const [rows, total] = await this.blocks.findAndCount(tenantId, {
      where: LISTED[kind].map((k) => ({ kind: k, blocked_until: MoreThan(new Date()) })),
      order: { created_at: dir, subject: dir },
      take: size,
      skip: offset,
    });
    return page(
      rows.map((r) => toBlockDto(r)),
      total,
      { limit: size, offset },
    );
  }

  /**
   * Lifts a block and clears its counter; 404 when nothing was blocked. A login names both the
   * typed-login block and an account block (by user id), so one call frees a person.
   */
  async unblock(
    tenantId: string,
    kind: BlockListKind,
    rawSubject: string,
    context: { principal?: Principal; ip?: string | null; userAgent?: string | null },
  ): Promise<void> {
    if (kind === 'ip' && !isIpSubject(rawSubject)) {
      throw badRequest('Not an IP address', [
        { field: 'ip', message: 'must be an IPv4 or IPv6 address (or an IPv6 /64)' },
      ]);
    }
    let lifted: string | undefined;
    for (const k of LISTED[kind]) {
      const subject = normalizeSubject(k, rawSubject);
      const removed = await this.blocks.deleteReturning(tenantId, { kind: k, subject }, [
        'blocked_until',
      ]);
      const wasRunning = await this.store
        .unblock(subjectKey(tenantId, k, subject))
        .catch((err: unknown) => (this.storeFailed(err), false));
      const rowWasRunning = removed.some(
        (r) => r.blocked_until && new Date(r.blocked_until) > new Date(),
      );
      if (wasRunning || rowWasRunning) lifted ??= subject;
    }
    this.blocksChanged(tenantId);
    if (lifted === undefined)
      throw notFound(
        kind === 'ip' ? 'Blocked IP' : kind === 'client' ? 'Blocked client' : 'Blocked user',
      );
    this.audit.record({
      tenantId,
      type: 'blocker.unblock',
      actorType: context.principal ? 'api_key' : 'system',
      actorId: context.principal?.credentialId ?? null,
      subjectType: kind,
      subjectId: lifted,
      ip: context.ip ?? null,
      userAgent: context.userAgent ?? null,
      outcome: 'success',
      method: 'api',
    });
  }
}

export function toBlockDto(
  r: Pick<BlockEntity, 'kind' | 'subject' | 'blocked_until' | 'attempts' | 'created_at'>,
): BlockDto {
  const left = Math.max(0, Math.ceil((r.blocked_until.getTime() - Date.now()) / 1000));
  return {
    ...(r.kind === 'ip'
      ? { ip: r.subject }
      : r.kind === 'account'
        ? { user_id: r.subject }
        : r.kind === 'client'
          ? { client_id: r.subject }
          : { username: r.subject }),
    blocked_until: r.blocked_until.toISOString(),
    retry_after_seconds: left,
    attempts: r.attempts,
    created_at: r.created_at.toISOString(),
  };
}
