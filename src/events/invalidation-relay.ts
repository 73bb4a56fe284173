import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import pg from 'pg';
import { crossTenant, TenantEvents, type TenantEvent } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { onceEvery } from '../common/throttle.js';
import { ClusterSignals } from './cluster-signals.js';

const CHANNEL = 'idp_tenant_events';

/** quit() on a client still trying to connect would wait for Redis to come back. */
const close = (c?: Redis) => (c?.status === 'ready' ? c.quit() : Promise.resolve(c?.disconnect()));

/**
 * Carries tenant change events to every replica so each drops its caches (providers, keys,
 * settings): Redis pub/sub when REDIS_URL is set, PostgreSQL LISTEN/NOTIFY otherwise. The
 * embedded PGlite default is single-process and needs neither.
 */
@Injectable()
export class InvalidationRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('InvalidationRelay');
  private readonly origin = randomUUID();
  private publisher?: Redis;
  private subscriber?: Redis;
  private listener?: pg.Client;
  private notifier?: pg.Pool;
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: TenantEvents,
    private readonly signals: ClusterSignals,
  ) {}

  /** Which transport is in use; shown in logs and asserted in tests. */
  get transport(): 'redis' | 'postgres' | 'none' {
    return this.publisher ? 'redis' : this.listener ? 'postgres' : 'none';
  }

  async onApplicationBootstrap() {
    if (this.config.redisUrl) {
      // Connect and subscribe in the background: a replica starts while Redis is down, and
      // ioredis keeps reconnecting (and resubscribes) until it is back.
      this.publisher = new Redis(this.config.redisUrl, { maxRetriesPerRequest: 2 });
      this.subscriber = new Redis(this.config.redisUrl);
      for (const client of [this.publisher, this.subscriber])
        client.on('error', (err) => this.warn(err));
      this.subscriber.on('message', (_channel, message) => this.receive(message));
      this.subscriber.subscribe(CHANNEL).catch((err: unknown) => this.warn(err));
      const publish = (message: string) =>
        void this.publisher!.publish(CHANNEL, message).catch((err) => this.warn(err));
      this.events.setRelay((e) => publish(this.encode(e)));
      this.signals.setRelay((topic, scope) => publish(this.encodeSignal(topic, scope)));
    } else if (this.config.databaseUrl) {
      await this.listen(this.config.databaseUrl);
      this.notifier = new pg.Pool({
        connectionString: this.config.databaseUrl,
        max: 2,
        application_name: 'idp-notify',
      });
      // An idle pooled connection cut by a database outage is reported on the pool: without a
      // listener that 'error' event would bring the process down.
      this.notifier.on('error', (err) => this.warn(err));
      const notify = (message: string) =>
        void crossTenant(this.notifier!)
          .sql('tenant_events_notify', 'SELECT pg_notify($1, $2)', [CHANNEL, message])
          .catch((err) => this.warn(err));
      this.events.setRelay((e) => notify(this.encode(e)));
      this.signals.setRelay((topic, scope) => notify(this.encodeSignal(topic, scope)));
    }
  }

  /** LISTENs on a connection of its own; a lost connection is replaced (see relisten). */
  private async listen(url: string) {
    const listener = new pg.Client({ connectionString: url, application_name: 'idp-listen' });
    listener.on('error', (err) => {
      this.warn(err);
      this.relisten(listener, url);
    });
    listener.on('end', () => this.relisten(listener, url));
    listener.on('notification', (n) => n.payload && this.receive(n.payload));
    this.listener = listener;
    await listener.connect();
    await crossTenant(listener).sql('tenant_events_listen', `LISTEN ${CHANNEL}`);
  }

  /**
   * A database outage or failover ends the LISTEN connection, and with it every later change
   * from the other replicas: connect again (every 0.5 s, backing off to 5 s) until it holds.
   * What was notified while it was gone is not replayed: caches fall back to their TTLs for it.
   */
  private relisten(dead: pg.Client, url: string, delay = 500) {
    if (this.closing || this.listener !== dead) return;
    this.listener = undefined;
    dead.removeAllListeners('end');
    dead.on('error', () => undefined);
    void dead.end().catch(() => undefined);
    const timer = setTimeout(() => {
      if (this.closing) return;
      this.listen(url).then(
        () => this.logger.log('invalidation relay listening again'),
        (err: unknown) => {
          this.warn(err);
          const current = this.listener;
          if (current) {
            // Not the same object as `dead`: relisten(current) replaces it after the delay.
            this.relisten(current, url, Math.min(delay * 2, 5_000));
          }
        },
      );
    }, delay);
    timer.unref();
  }

  private encode(e: TenantEvent): string {
    return JSON.stringify({ origin: this.origin, type: e.type, tenantId: e.tenantId });
  }

  private encodeSignal(topic: string, scope: string): string {
    return JSON.stringify({ origin: this.origin, topic, scope });
  }

  private receive(message: string) {
    try {
      const m = JSON.parse(message) as {
        origin?: string;
        type?: string;
        tenantId?: string;
        topic?: string;
        scope?: string;
      };
      if (m.origin === this.origin) return;
      if (typeof m.topic === 'string' && typeof m.scope === 'string')
        return this.signals.deliverLocally(m.topic, m.scope);
      if (typeof m.tenantId !== 'string') return;
      if (m.type !== 'changed' && m.type !== 'deleted') return;
      this.events.deliverLocally({ type: m.type, tenantId: m.tenantId });
    } catch (err) {
      this.warn(err);
    }
  }

  private readonly warning = onceEvery(30_000);

  /** One line per 30 s at most: a Redis outage repeats the same error many times a second. */
  private warn(err: unknown) {
    if (!this.warning()) return;
    this.logger.warn({ err }, 'invalidation relay error; caches fall back to their TTLs');
  }

  async onApplicationShutdown() {
    this.closing = true;
    await Promise.allSettled([
      close(this.publisher),
      close(this.subscriber),
      this.listener?.end(),
      this.notifier?.end(),
    ]);
  }
}
