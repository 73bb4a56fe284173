import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HashLimiter, type HashPriority } from './hash-limiter.js';
import { hashScheme, verifyLegacy } from './legacy-hashes.js';
import { BCRYPT_MAX_BYTES } from './password-policy.js';

/** The detail of a refused provisioning request, naming the limit and how to raise it. */
export function tooManyPasswords(count: number, limit: number): string {
  return (
    `This request carries ${count} passwords; at most ${limit} per request ` +
    `(PASSWORD_MAX_PER_REQUEST): split it into smaller requests`
  );
}

/**
 * Every bcrypt hash and compare of the application goes through here (decision 0016): one
 * limiter bounds them, and a verification costs one full compare whatever the answer.
 * One application runs per process (src/main.ts), so this limiter is the process's.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  readonly limiter: HashLimiter;
  /** Compared against when there is no stored hash, so timing does not reveal existence. */
  private dummy?: Promise<string>;
  /** Passwords one provisioning request (SCIM Bulk, users batch) may carry. */
  readonly maxPerRequest: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    const { concurrency, tenantConcurrency, maxPerRequest } = config.passwordHash;
    this.maxPerRequest = maxPerRequest;
    this.limiter = new HashLimiter(concurrency, tenantConcurrency, (s) =>
      metrics.passwordHashState(s),
    );
  }

  onModuleInit() {
    void this.dummyHash();
  }

  private dummyHash(): Promise<string> {
    return (this.dummy ??= bcrypt.hash('timing-equaliser', this.config.bcryptCost));
  }

  /** A new hash; `bulk` for provisioning, `interactive` for a user's own change. */
  hash(tenantId: string, password: string, priority: HashPriority): Promise<string> {
    return this.run('hash', priority, tenantId, () =>
      bcrypt.hash(password, this.config.bcryptCost),
    );
  }

  /**
   * Whether `password` matches `stored`. Every path pays one bcrypt compare at the stored hash's
   * cost: no hash (unknown user, no password) compares against a dummy; a password longer than
   * bcrypt reads (which it would truncate, so never accepted) compares against the stored hash
   * and is refused whatever that answers.
   */
  async verify(tenantId: string, stored: string | null, password: string): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
    const against = stored ?? (await this.dummyHash());
    // Users imported from another product keep their argon2/PBKDF2 hash until they sign in.
    const legacy = stored !== null && hashScheme(stored) !== 'bcrypt';
    const same = await this.run('compare', 'interactive', tenantId, () =>
      legacy ? verifyLegacy(against, password) : bcrypt.compare(password, against),
    );
    return stored !== null && !tooLong && same;
  }

  /** One bcrypt operation in its queue, counted in /metrics when it has finished. */
  private run<T>(
    op: 'hash' | 'compare',
    priority: HashPriority,
    tenantId: string,
    task: () => Promise<T>,
  ): Promise<T> {
    return this.limiter.run(priority, tenantId, () =>
      task().finally(() => this.metrics.passwordHashOperation(op, priority)),
    );
  }
}
