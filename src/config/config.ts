import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

export const APP_CONFIG = Symbol('APP_CONFIG');

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  env: string;
  version: string;
  port: number;
  host: string;
  /** Base URL without a trailing slash; every issuer is built from it, never from Host. */
  publicUrl: string;
  databaseUrl?: string;
  dataDir: string;
  redisUrl?: string;
  /** 32-byte key for secrets at rest. */
  masterKey: Buffer;
  bootstrapOperatorKey?: string;
  smtpUrl?: string;
  /** false, true (trust every hop), or a list of addresses/CIDRs of the proxies. */
  trustProxy: boolean | string[];
  logLevel: LogLevel;
  bcryptCost: number;
  /** Password hashing budget: see src/users/hash-limiter.ts and decision 0016. */
  passwordHash: {
    /** bcrypt operations at once in this process (they run on libuv's thread pool). */
    concurrency: number;
    /** Of those, at most this many for one tenant's provisioning (bulk) hashing. */
    tenantConcurrency: number;
    /** Passwords one provisioning request (SCIM Bulk, users batch) may carry. */
    maxPerRequest: number;
  };
  providerCacheSize: number;
  /** On SIGTERM/SIGINT: how long requests in flight may take before connections are cut (ms). */
  shutdownDrainMs: number;
  /** How old a sign-in may be for adding or removing a credential (API and account page), in seconds. */
  recentAuthSeconds: number;
  metricsToken?: string;
  /** Without METRICS_TOKEN, /metrics answers only loopback clients unless this is true. */
  metricsPublic: boolean;
  /** What the blocker does with counting while Redis is down: see src/blocker/fallback-counter-store.ts. */
  blockerRedisOutage: 'local' | 'open' | 'closed';
  /** How long an Idempotency-Key's answer is kept (users/batch, SCIM Bulk), in hours. */
  idempotencyKeyHours: number;
  /** OUTBOUND_ALLOW_PRIVATE: URLs the server fetches may be http and internal (tests only). */
  outboundAllowPrivate: boolean;
  /** Back-Channel Logout delivery (src/oidc/logout-propagation.ts, decision note 0026). */
  backchannelLogout: {
    /** Waits before the 2nd, 3rd, ... attempt (ms); after the last one the notice is given up. */
    retryDelaysMs: number[];
    /** How often each replica looks for due notices (ms). */
    pollMs: number;
  };
}

/** One clear line naming the variable; main prints it and exits. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') {
    throw new ConfigError(name, `must be true or false (got "${raw}")`);
  }
  return raw === 'true';
}

function oneOf<T extends string>(env: Env, name: string, values: T[], fallback: T): T {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!values.includes(raw as T)) {
    throw new ConfigError(name, `must be one of ${values.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.join(', ')})`);
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new ConfigError(
      name,
      `must use one of ${protocols.join(', ')} (got "${parsed.protocol}")`,
    );
  }
  return raw;
}

function decodeMasterKey(raw: string, name: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError(name, 'must be 32 bytes, as 64 hex characters or base64');
  }
  return key;
}

/**
 * The master key comes from IDP_MASTER_KEY. Only the embedded single-node default may
 * generate one (into DATA_DIR): replicas sharing a PostgreSQL must share the key, so with
 * DATABASE_URL it is required.
 */
function loadMasterKey(env: Env, dataDir: string, databaseUrl: string | undefined): Buffer {
  const raw = str(env, 'IDP_MASTER_KEY');
  if (raw !== undefined) return decodeMasterKey(raw, 'IDP_MASTER_KEY');
  if (databaseUrl !== undefined) {
    throw new ConfigError(
      'IDP_MASTER_KEY',
      'is required when DATABASE_URL is set (32 bytes, hex or base64)',
    );
  }
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8').trim(), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

function parseTrustProxy(env: Env): boolean | string[] {
  const raw = str(env, 'TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  const list = raw.split(',').map((s) => s.trim());
  for (const item of list) {
    if (
      !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(item) &&
      !['loopback', 'linklocal', 'uniquelocal'].includes(item)
    ) {
      throw new ConfigError(
        'TRUST_PROXY',
        `must be true, false or a comma-separated list of addresses/CIDRs (got "${item}")`,
      );
    }
  }
  return list;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      return String(pkg.version);
    } catch {
      return '0.0.0';
    }
  }
}

export function loadConfig(env: Env = process.env): AppConfig {
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = str(env, 'HOST') ?? '0.0.0.0';
  const publicUrl = (
    url(env, 'PUBLIC_URL', ['http', 'https']) ?? `http://localhost:${port}`
  ).replace(/\/+$/, '');
  if (new URL(publicUrl).search || new URL(publicUrl).hash) {
    throw new ConfigError('PUBLIC_URL', 'must not carry a query or fragment');
  }
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres', 'postgresql']);
  const dataDir = resolve(str(env, 'DATA_DIR') ?? './data');
  const redisUrl = url(env, 'REDIS_URL', ['redis', 'rediss']);
  const smtpUrl = url(env, 'SMTP_URL', ['smtp', 'smtps']);
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`,
    );
  }
  const bootstrapOperatorKey = str(env, 'IDP_BOOTSTRAP_OPERATOR_KEY');
  if (bootstrapOperatorKey !== undefined && bootstrapOperatorKey.length < 24) {
    throw new ConfigError('IDP_BOOTSTRAP_OPERATOR_KEY', 'must be at least 24 characters');
  }
  return {
    env: str(env, 'NODE_ENV') ?? 'development',
    version: readVersion(),
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir,
    redisUrl,
    masterKey: loadMasterKey(env, dataDir, databaseUrl),
    bootstrapOperatorKey,
    smtpUrl,
    trustProxy: parseTrustProxy(env),
    logLevel,
    bcryptCost: int(env, 'BCRYPT_COST', 12, 4, 15),
    passwordHash: passwordHashConfig(env),
    providerCacheSize: int(env, 'PROVIDER_CACHE_SIZE', 500, 1, 100000),
    shutdownDrainMs: int(env, 'SHUTDOWN_DRAIN_SECONDS', 10, 0, 300) * 1000,
    recentAuthSeconds: int(env, 'RECENT_AUTH_SECONDS', 300, 1, 86400),
    metricsToken: str(env, 'METRICS_TOKEN'),
    metricsPublic: bool(env, 'METRICS_PUBLIC', false),
    outboundAllowPrivate: bool(env, 'OUTBOUND_ALLOW_PRIVATE', false),
    idempotencyKeyHours: int(env, 'IDEMPOTENCY_KEY_HOURS', 24, 1, 720),
    blockerRedisOutage: oneOf(env, 'BLOCKER_REDIS_OUTAGE', ['local', 'open', 'closed'], 'local'),
    backchannelLogout: {
      retryDelaysMs: msList(
        env,
        'BACKCHANNEL_RETRY_MS',
        [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000],
      ),
      pollMs: int(env, 'BACKCHANNEL_POLL_MS', 1000, 50, 60_000),
    },
  };
}

/** A comma-separated list of waits in milliseconds (1 to 20 of them, each up to a day). */
function msList(env: Env, name: string, fallback: number[]): number[] {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim());
  if (
    items.length > 20 ||
    items.some((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 86_400_000)
  ) {
    throw new ConfigError(
      name,
      `must be 1 to 20 comma-separated waits in milliseconds, each from 1 to 86400000 (got "${raw}")`,
    );
  }
  return items.map(Number);
}

/** libuv runs 4 threads unless UV_THREADPOOL_SIZE says otherwise; bcrypt leaves one free. */
function passwordHashConfig(env: Env): AppConfig['passwordHash'] {
  const threads = int(env, 'UV_THREADPOOL_SIZE', 4, 1, 1024);
  const concurrency = int(env, 'PASSWORD_HASH_CONCURRENCY', Math.max(1, threads - 1), 1, 1024);
  return {
    concurrency,
    tenantConcurrency: int(
      env,
      'PASSWORD_HASH_PER_TENANT',
      Math.max(1, Math.floor(concurrency / 2)),
      1,
      1024,
    ),
    maxPerRequest: int(env, 'PASSWORD_MAX_PER_REQUEST', 100, 1, 1000),
  };
}
