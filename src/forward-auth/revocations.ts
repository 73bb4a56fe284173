import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { crossTenant, InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { onceEvery } from '../common/throttle.js';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module.js';
import type { ForwardSession } from './forward-cookie.js';
import { MAX_SESSION_LIFETIME } from './dto/protected-app.dto.js';
import { ForwardAuthRevocationEntity } from './protected-app.entity.js';

const CHANNEL = 'idp_forward_auth_revocations';
/** The database poll: what reaches a replica whose Redis message was lost, within a second. */
const POLL_MS = 500;
/** Each poll rereads this window (applying a row twice changes nothing), so a row committed late is not skipped. */
const POLL_WINDOW_S = 30;

interface Revocation {
  id: string;
  tenantId: string;
  kind: 'session' | 'account' | 'apps';
  subject: string;
  /** Milliseconds. */
  at: number;
  /** Milliseconds. */
  expires: number;
}

/**
 * Forward-auth revocations, held in memory by every replica so a check reads no database:
 * ended sessions (by OIDC session uid) and accounts whose cookies issued before a moment are
 * void (sign out everywhere, disabled, deleted, new password). A revocation is a row
 * (forward_auth_revocations), applied here at once, published on Redis for the other replicas,
 * and polled from the database every half second as the fallback; a replica starts by loading
 * every row still in force. "apps" rows tell replicas to reload a tenant's protected apps.
 */
@Injectable()
export class ForwardAuthRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ForwardAuthRevocations');
  private readonly sessions = new Map<string, number>();
  private readonly accounts = new Map<string, { at: number; expires: number }>();
  private readonly applied = new Map<string, number>();
  private readonly appListeners = new Set<(tenantId: string) => void>();
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private sweepAt = 0;
  private readonly warning = onceEvery(30_000);

  constructor(
    @InjectTenantRepository(ForwardAuthRevocationEntity)
    private readonly rows: TenantRepository<ForwardAuthRevocationEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {}

  /** Whether a cookie is void: its session ended, or its account was revoked after it was issued. */
  isRevoked(s: ForwardSession): boolean {
    if (this.sessions.has(`${s.t}\n${s.sid}`)) return true;
    const account = this.accounts.get(`${s.t}\n${s.sub}`);
    return account !== undefined && s.iat <= account.at;
  }

  onAppsChanged(listener: (tenantId: string) => void) {
    this.appListeners.add(listener);
  }

  revokeSession(tenantId: string, sessionUid: string) {
    return this.record(tenantId, 'session', sessionUid);
  }

  revokeAccount(tenantId: string, accountId: string) {
    return this.record(tenantId, 'account', accountId);
  }

  appsChanged(tenantId: string) {
    return this.record(tenantId, 'apps', '*');
  }

  private async record(tenantId: string, kind: Revocation['kind'], subject: string) {
    const now = Date.now();
    const r: Revocation = {
      id: randomUUID(),
      tenantId,
      kind,
      subject,
      at: now,
      expires: now + (kind === 'apps' ? POLL_WINDOW_S * 2_000 : MAX_SESSION_LIFETIME * 1000),
    };
    this.apply(r);
    await this.rows.insert(tenantId, {
      revocation_id: r.id,
      kind,
      subject,
      revoked_at: new Date(r.at),
      expires_at: new Date(r.expires),
    });
    if (this.redis)
      await this.redis.publish(CHANNEL, JSON.stringify(r)).catch((err) => this.warn(err));
  }

  private apply(r: Revocation) {
    if (this.applied.has(r.id)) return;
    this.applied.set(r.id, r.expires);
    const key = `${r.tenantId}\n${r.subject}`;
    if (r.kind === 'session') this.sessions.set(key, r.expires);
    else if (r.kind === 'account') {
      const had = this.accounts.get(key);
      if (!had || had.at < r.at) this.accounts.set(key, { at: r.at, expires: r.expires });
    } else for (const l of this.appListeners) l(r.tenantId);
  }

  async onApplicationBootstrap() {
    await this.poll(true);
    this.timer = setInterval(() => void this.poll(false), POLL_MS);
    this.timer.unref();
    if (this.redis) {
      this.subscriber = this.redis.duplicate({ lazyConnect: false, maxRetriesPerRequest: null });
      this.subscriber.on('error', (err) => this.warn(err));
      this.subscriber.on('message', (_c, message) => this.receive(message));
      this.subscriber.subscribe(CHANNEL).catch((err: unknown) => this.warn(err));
    }
  }

  private receive(message: string) {
    try {
      const r = JSON.parse(message) as Revocation;
      if (typeof r.id === 'string' && typeof r.tenantId === 'string') this.apply(r);
    } catch (err) {
      this.warn(err);
    }
  }

  /** Every row in force at start; afterwards the recent window. Cross-tenant by design. */
  private async poll(all: boolean) {
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await crossTenant(this.dataSource).sql<
        Array<{
          tenant_id: string;
          revocation_id: string;
          kind: Revocation['kind'];
          subject: string;
          revoked_at: Date;
          expires_at: Date;
        }>
      >(
        all ? 'forward_auth_revocations_load' : 'forward_auth_revocations_poll',
        `SELECT tenant_id, revocation_id, kind, subject, revoked_at, expires_at
           FROM forward_auth_revocations
          WHERE expires_at > now() AND ($1::boolean OR revoked_at > now() - $2 * interval '1 second')`,
        [all, POLL_WINDOW_S],
      );
      for (const row of rows)
        this.apply({
          id: row.revocation_id,
          tenantId: row.tenant_id,
          kind: row.kind,
          subject: row.subject,
          at: new Date(row.revoked_at).getTime(),
          expires: new Date(row.expires_at).getTime(),
        });
      if (Date.now() > this.sweepAt) await this.sweep();
    } catch (err) {
      this.warn(err);
    } finally {
      this.polling = false;
    }
  }

  /** Drops what has expired, in memory and (a maintenance job across tenants) in the table. */
  private async sweep() {
    const now = Date.now();
    this.sweepAt = now + 600_000;
    for (const map of [this.sessions, this.applied])
      for (const [k, exp] of map) if (exp < now) map.delete(k);
    for (const [k, v] of this.accounts) if (v.expires < now) this.accounts.delete(k);
    await crossTenant(this.dataSource).sql(
      'forward_auth_revocations_purge',
      `DELETE FROM forward_auth_revocations WHERE expires_at < now()`,
    );
  }

  private warn(err: unknown) {
    if (this.warning())
      this.logger.warn({ err }, 'forward-auth revocation feed error; the database poll carries on');
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    const s = this.subscriber;
    if (s) await (s.status === 'ready' ? s.quit() : Promise.resolve(s.disconnect()));
  }
}
