import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'idp-config-'));
const key = 'a'.repeat(64);

describe('loadConfig', () => {
  it('applies defaults for the embedded setup and generates a stable master key', () => {
    const dir = dataDir();
    const a = loadConfig({ DATA_DIR: dir });
    expect(a.port).toBe(3000);
    expect(a.databaseUrl).toBeUndefined();
    expect(a.publicUrl).toBe('http://localhost:3000');
    expect(a.masterKey).toHaveLength(32);
    expect(a.recentAuthSeconds).toBe(300);
    expect(loadConfig({ DATA_DIR: dir }).masterKey.equals(a.masterKey)).toBe(true);
  });

  it('sizes the password hashing budget from the thread pool unless told', () => {
    const dir = dataDir();
    expect(loadConfig({ DATA_DIR: dir }).passwordHash).toEqual({
      concurrency: 3,
      tenantConcurrency: 1,
      maxPerRequest: 100,
    });
    expect(loadConfig({ DATA_DIR: dir, UV_THREADPOOL_SIZE: '9' }).passwordHash).toMatchObject({
      concurrency: 8,
      tenantConcurrency: 4,
    });
    expect(
      loadConfig({ DATA_DIR: dir, PASSWORD_HASH_CONCURRENCY: '2', PASSWORD_HASH_PER_TENANT: '2' })
        .passwordHash,
    ).toMatchObject({ concurrency: 2, tenantConcurrency: 2 });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://x/db' }, 'IDP_MASTER_KEY'],
    [{ IDP_MASTER_KEY: 'short' }, 'IDP_MASTER_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ TRUST_PROXY: 'some host' }, 'TRUST_PROXY'],
    [{ IDP_BOOTSTRAP_OPERATOR_KEY: 'short' }, 'IDP_BOOTSTRAP_OPERATOR_KEY'],
    [{ METRICS_PUBLIC: 'yes' }, 'METRICS_PUBLIC'],
    [{ RECENT_AUTH_SECONDS: '0' }, 'RECENT_AUTH_SECONDS'],
    [{ PASSWORD_HASH_CONCURRENCY: '0' }, 'PASSWORD_HASH_CONCURRENCY'],
    [{ PASSWORD_MAX_PER_REQUEST: '1001' }, 'PASSWORD_MAX_PER_REQUEST'],
    [{ BLOCKER_REDIS_OUTAGE: 'maybe' }, 'BLOCKER_REDIS_OUTAGE'],
    [{ BACKCHANNEL_RETRY_MS: '1000,soon' }, 'BACKCHANNEL_RETRY_MS'],
    [{ BACKCHANNEL_RETRY_MS: '0' }, 'BACKCHANNEL_RETRY_MS'],
    [{ BACKCHANNEL_POLL_MS: '10' }, 'BACKCHANNEL_POLL_MS'],
  ])('rejects %j naming %s in one line', (env, variable) => {
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: dataDir(), ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(
      new RegExp(`^Invalid configuration: ${variable} `),
    );
    expect((error as ConfigError).message).not.toContain('\n');
  });

  it('accepts PostgreSQL with a hex master key and strips a trailing slash from PUBLIC_URL', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://postgres@127.0.0.1/x',
      IDP_MASTER_KEY: key,
      PUBLIC_URL: 'https://id.example.com/',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    });
    expect(c.publicUrl).toBe('https://id.example.com');
    expect(c.masterKey.toString('hex')).toBe(key);
    expect(c.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('reads the back-channel logout waits as a list of milliseconds', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).backchannelLogout.retryDelaysMs).toHaveLength(6);
    const c = loadConfig({ DATA_DIR: dataDir(), BACKCHANNEL_RETRY_MS: '250, 2000' });
    expect(c.backchannelLogout.retryDelaysMs).toEqual([250, 2000]);
  });
});
