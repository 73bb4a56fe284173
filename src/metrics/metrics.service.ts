import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

export type Outcome = 'success' | 'failure';

/** Label values must stay bounded: anything odd, and anything past this many, becomes "other". */
const LABEL_VALUE = /^[a-z0-9_.:-]{1,40}$/;
const MAX_VALUES_PER_LABEL = 32;

/** Route label for requests no route matched (404s, probes): never the raw URL. */
const UNMATCHED = 'unmatched';

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * One Prometheus registry per application (several apps share a process in tests, and the
 * global default registry refuses a metric name twice). Other modules call the typed helpers;
 * they never create metrics of their own, so names and label sets stay in one place.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly seen = new Map<string, Set<string>>();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly signIns = new Counter({
    name: 'idp_sign_ins_total',
    help: 'Sign-in attempts by outcome and method',
    labelNames: ['outcome', 'method'] as const,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'idp_tokens_issued_total',
    help: 'Token endpoint results by grant type and outcome',
    labelNames: ['grant', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly logoutNotices = new Counter({
    name: 'idp_backchannel_logout_total',
    help: 'Back-channel logout deliveries: delivered, failed and retried later, or given up',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly blocked = new Counter({
    name: 'idp_blocked_attempts_total',
    help: 'Credential checks refused by the brute-force blocker, by what was blocked',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly blocksStarted = new Counter({
    name: 'idp_blocks_started_total',
    help: 'Blocks started by the brute-force blocker, by what was blocked',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly providerCache = new Counter({
    name: 'idp_provider_cache_total',
    help: 'Per-tenant OpenID Provider cache lookups by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly auditDropped = new Counter({
    name: 'idp_audit_events_dropped_total',
    help: 'Audit events dropped because the write buffer was full or the database refused them',
    registers: [this.registry],
  });
  private readonly passwordOps = new Counter({
    name: 'idp_password_hash_operations_total',
    help: 'bcrypt operations finished, by operation (hash, compare) and queue (interactive, bulk)',
    labelNames: ['op', 'priority'] as const,
    registers: [this.registry],
  });
  private readonly passwordInFlight = new Gauge({
    name: 'idp_password_hash_in_flight',
    help: 'bcrypt operations running now (bounded by PASSWORD_HASH_CONCURRENCY)',
    registers: [this.registry],
  });
  private readonly passwordPeak = new Gauge({
    name: 'idp_password_hash_in_flight_peak',
    help: 'The most bcrypt operations that ever ran at once in this process',
    registers: [this.registry],
  });
  private readonly passwordWaiting = new Gauge({
    name: 'idp_password_hash_waiting',
    help: 'bcrypt operations waiting for a slot, by queue',
    labelNames: ['priority'] as const,
    registers: [this.registry],
  });
  /** Read at scrape time from the pg pool. */
  private readonly poolGauge: Gauge<'state'>;
  /** Per-tenant state held in memory, by kind; each size is read at scrape time. */
  private readonly residentSizes = new Map<string, () => number>();
  private readonly residentGauge: Gauge<'kind'>;
  private readonly auditWritten = new Counter({
    name: 'idp_audit_events_written_total',
    help: 'Audit events written to the database',
    registers: [this.registry],
  });

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const sizes = this.residentSizes;
    this.residentGauge = new Gauge({
      name: 'idp_tenant_resident',
      help: 'Tenants whose state is held in memory, by kind (providers, documents, jwks)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        for (const [kind, size] of sizes) this.set({ kind }, size());
      },
    });
    const pool = () => this.pool();
    this.poolGauge = new Gauge({
      name: 'idp_db_pool_connections',
      help: 'Database pool connections by state (PostgreSQL only)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const p = pool();
        if (!p) return;
        this.set({ state: 'total' }, p.totalCount);
        this.set({ state: 'idle' }, p.idleCount);
        this.set({ state: 'waiting' }, p.waitingCount);
      },
    });
  }

  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
      this.httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions?.url ?? UNMATCHED,
          status: `${Math.floor(reply.statusCode / 100)}xx`,
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /**
   * Requests answered by a tenant's OpenID Provider never reach Fastify (the mount hands them to
   * Koa first); the mount reports them here under a bounded route template.
   */
  /** One series of observeOidcRequest's, for a caller that keeps it (no label lookup per request). */
  oidcRequestObserver(method: string, route: string, statusCode: number) {
    const child = this.httpDuration.labels({
      method,
      route,
      status: `${Math.floor(statusCode / 100)}xx`,
    });
    return (seconds: number) => child.observe(seconds);
  }

  observeOidcRequest(method: string, route: string, statusCode: number, seconds: number) {
    this.httpDuration.observe(
      { method, route, status: `${Math.floor(statusCode / 100)}xx` },
      seconds,
    );
  }

  private pool(): PgPoolLike | undefined {
    const master = (this.dataSource.driver as unknown as { master?: unknown }).master;
    if (master && typeof (master as PgPoolLike).totalCount === 'number')
      return master as PgPoolLike;
    return undefined;
  }

  /** Keeps a label's value set bounded whatever callers pass. */
  private bounded(label: string, value: string): string {
    if (!LABEL_VALUE.test(value)) return 'other';
    let values = this.seen.get(label);
    if (!values) this.seen.set(label, (values = new Set()));
    if (values.has(value)) return value;
    if (values.size >= MAX_VALUES_PER_LABEL) return 'other';
    values.add(value);
    return value;
  }

  /** A sign-in attempt ended; `method` is the credential checked (password, totp, passkey, ...). */
  signIn(outcome: Outcome, method: string) {
    this.signIns.inc({ outcome, method: this.bounded('method', method) });
  }

  /** The token endpoint answered; `grant` is the grant type (authorization_code, refresh_token, ...). */
  tokenIssued(grant: string, outcome: Outcome) {
    this.tokens.inc({ grant: this.bounded('grant', grant), outcome });
  }

  /** One back-channel logout delivery attempt ended. */
  backchannelLogout(outcome: 'delivered' | 'retry' | 'dropped') {
    this.logoutNotices.inc({ outcome });
  }

  /** The blocker refused an attempt (called by BlockerService; others need not). */
  blockedAttempt(kind: string) {
    this.blocked.inc({ kind });
  }

  blockStarted(kind: string) {
    this.blocksStarted.inc({ kind });
  }

  /** Reports how many tenants have `kind` of state resident (read at scrape time). */
  resident(kind: string, size: () => number) {
    this.residentSizes.set(kind, size);
  }

  providerCacheHit() {
    this.providerCache.inc({ result: 'hit' });
  }

  providerCacheMiss() {
    this.providerCache.inc({ result: 'miss' });
  }

  auditEventsDropped(count: number) {
    if (count > 0) this.auditDropped.inc(count);
  }

  auditEventsWritten(count: number) {
    if (count > 0) this.auditWritten.inc(count);
  }

  /** A bcrypt operation finished (called by PasswordHasher only). */
  passwordHashOperation(op: 'hash' | 'compare', priority: 'interactive' | 'bulk') {
    this.passwordOps.inc({ op, priority });
  }

  passwordHashState(s: {
    inFlight: number;
    peak: number;
    waitingInteractive: number;
    waitingBulk: number;
  }) {
    this.passwordInFlight.set(s.inFlight);
    this.passwordPeak.set(s.peak);
    this.passwordWaiting.set({ priority: 'interactive' }, s.waitingInteractive);
    this.passwordWaiting.set({ priority: 'bulk' }, s.waitingBulk);
  }

  /** Prometheus text exposition of every metric of this application. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
