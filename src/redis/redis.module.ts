import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RedisBreaker } from './redis-breaker.js';

export { RedisBreaker, RedisUnavailableError } from './redis-breaker.js';

/** The shared ioredis client, or `null` when REDIS_URL is unset (single replica, in-process state). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export type RedisClient = Redis | null;
/** The breaker around REDIS_CLIENT (null without Redis): `isOpen` while Redis is unreachable. */
export const REDIS_BREAKER = Symbol('REDIS_BREAKER');

/**
 * Builds the client without connecting (the application connects it at bootstrap, in the
 * background), so a replica whose Redis is down still starts, and callers decide how to degrade.
 * Options in the URL query (`?keyPrefix=idp:`) reach ioredis as they are.
 */
export function createRedisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    // A sign-in must not hang on a dead Redis: fail the command quickly, the caller degrades.
    // The breaker (redis-breaker.ts) turns the offline queue off while Redis is unreachable.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: 2_000,
  });
  return client;
}

@Injectable()
class RedisLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(REDIS_BREAKER) private readonly breaker: RedisBreaker | null,
  ) {}

  /** Connect now, so an outage is known (and the breaker open) before the first request. */
  onApplicationBootstrap() {
    if (this.client?.status === 'wait') this.client.connect().catch(() => {});
  }

  async onApplicationShutdown() {
    this.breaker?.stop();
    if (!this.client || this.client.status === 'end') return;
    if (this.client.status !== 'ready') {
      // Never connected, or reconnecting to a Redis that is down: quit() would wait for it.
      this.client.disconnect();
      return;
    }
    await this.client.quit().catch(() => this.client?.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): RedisClient =>
        config.redisUrl ? createRedisClient(config.redisUrl) : null,
    },
    {
      provide: REDIS_BREAKER,
      inject: [REDIS_CLIENT],
      useFactory: (client: RedisClient) => (client ? new RedisBreaker(client) : null),
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT, REDIS_BREAKER],
})
export class RedisModule {}
