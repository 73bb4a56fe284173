import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { onceEvery } from '../common/throttle.js';

/** The shared ioredis client, or `null` when REDIS_URL is unset (single replica, in-process state). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export type RedisClient = Redis | null;

/**
 * Builds the client without connecting: it connects on its first command, so a replica whose
 * Redis is briefly down still starts, and callers decide how to degrade. Options in the URL
 * query (`?keyPrefix=idp:`) reach ioredis as they are.
 */
export function createRedisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    // A sign-in must not hang on a dead Redis: fail the command quickly, the caller degrades.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: 2_000,
  });
  return client;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  private readonly warning = onceEvery(30_000);

  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {
    // Without a listener ioredis reports connection errors as unhandled 'error' events. While
    // Redis is down it fails every reconnect: one line per 30 s is enough.
    client?.on('error', (err: Error) => {
      if (this.warning()) this.logger.warn({ err: err.message }, 'redis error');
    });
  }

  async onApplicationShutdown() {
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
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
