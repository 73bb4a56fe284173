import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThan, type Repository } from 'typeorm';
import type { Principal } from '../auth/scopes.js';
import { page, type Page } from '../common/pagination.js';
import { badRequest, notFound } from '../common/problem.js';
import type { BlockLimits } from '../tenants/tenant-settings.js';
import { PlatformBlockEntity } from './block.entity.js';
import { BlockerService, tooManyAttempts, toBlockDto } from './blocker.service.js';
import type { BlockDto, BlockListQuery } from './dto/block.dto.js';
import { isIpSubject, normalizeIp, PLATFORM_SCOPE, subjectKey } from './subjects.js';
import { isDomainError } from '../common/domain-error.js';

/**
 * Failed API-key authentications per IP, on every tenant at once: keys are not guessable, but
 * a scanner costs a lookup per try and fills the logs. 20 failures in 5 minutes block the
 * address (its /64 for IPv6) for 15 minutes on /api and /scim.
 */
export const API_KEY_LIMITS: BlockLimits = {
  max_attempts: 20,
  window_seconds: 300,
  block_seconds: 900,
};

/** The platform-wide part of the blocker: the `@platform` scope, blocks in `platform_blocks`. */
@Injectable()
export class PlatformBlocker {
  private readonly logger = new Logger('Blocker');

  constructor(
    private readonly blocker: BlockerService,
    @InjectRepository(PlatformBlockEntity)
    private readonly blocks: Repository<PlatformBlockEntity>,
  ) {}

  /**
   * Runs an API-key authentication for a caller at `ip`: 429 while the address is blocked
   * (before the key is looked up), and a 401 from `authenticate` counts as a failure.
   */
  async guardApiKey<T>(ip: string | undefined, authenticate: () => Promise<T>): Promise<T> {
    if (!ip) return authenticate();
    const who = { ip };
    const check =
      this.blocker.checkNow(PLATFORM_SCOPE, who) ?? (await this.blocker.check(PLATFORM_SCOPE, who));
    if (check.blocked) throw tooManyAttempts(check);
    try {
      return await authenticate();
    } catch (err) {
      if (isDomainError(err) && err.kind === 'unauthenticated') await this.recordFailure(ip);
      throw err;
    }
  }

  private async recordFailure(ip: string) {
    const subject = normalizeIp(ip);
    let outcome;
    try {
      outcome = await this.blocker.counters.recordFailure(
        subjectKey(PLATFORM_SCOPE, 'ip', subject),
        API_KEY_LIMITS,
      );
    } catch (err) {
      this.blocker.storeFailed(err);
      return;
    }
    if (!outcome.blockStarted) return;
    const now = new Date();
    this.logger.warn(
      { ip: subject, attempts: outcome.attempts },
      'blocked an address after failed API-key authentications',
    );
    try {
      await this.blocks.upsert(
        {
          kind: 'ip',
          subject,
          blocked_until: new Date(now.getTime() + outcome.blockedForMs),
          attempts: outcome.attempts,
          created_at: now,
        },
        ['kind', 'subject'],
      );
      // Blocks over for a day are history (the log has them); the table keeps running ones.
      await this.blocks.delete({ blocked_until: LessThan(new Date(now.getTime() - 86_400_000)) });
    } catch (err) {
      // The row is the block (see BlockerService.blockStarted): without it, no block.
      this.logger.warn({ err }, 'could not record a platform block: not blocking');
      await this.blocker.counters
        .unblock(subjectKey(PLATFORM_SCOPE, 'ip', subject))
        .catch(() => {});
    }
    this.blocker.blocksChanged(PLATFORM_SCOPE);
  }

  async list(q: BlockListQuery): Promise<Page<BlockDto>> {
    const { size, offset, dir } = q.window();
    const [rows, total] = await this.blocks.findAndCount({
      where: { kind: 'ip', blocked_until: MoreThan(new Date()) },
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

  /** Lifts a platform block of an address (or IPv6 /64); 404 when none was running. */
  async unblock(rawIp: string, context: { principal?: Principal }): Promise<void> {
    if (!isIpSubject(rawIp)) {
      throw badRequest('Not an IP address', [
        { field: 'ip', message: 'must be an IPv4 or IPv6 address (or an IPv6 /64)' },
      ]);
    }
    const subject = normalizeIp(rawIp);
    const removed = await this.blocks
      .createQueryBuilder()
      .delete()
      .where({ kind: 'ip', subject })
      .returning(['blocked_until'])
      .execute();
    const rows = (removed.raw ?? []) as Array<{ blocked_until: Date | string }>;
    const rowWasRunning = rows.some((r) => new Date(r.blocked_until) > new Date());
    const wasRunning = await this.blocker.counters
      .unblock(subjectKey(PLATFORM_SCOPE, 'ip', subject))
      .catch((err: unknown) => (this.blocker.storeFailed(err), false));
    this.blocker.blocksChanged(PLATFORM_SCOPE);
    if (!wasRunning && !rowWasRunning) throw notFound('Blocked IP');
    this.logger.log(
      { ip: subject, by: context.principal?.credentialId ?? null },
      'lifted a platform block',
    );
  }
}
