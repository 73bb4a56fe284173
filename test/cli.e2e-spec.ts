import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { PASSWORD } from './fixtures.js';

const exec = promisify(execFile);
const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/src/cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

/** `idp ...` as an operator types it: a child process with its own environment. */
async function idp(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const child = exec(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    timeout: 60_000,
  });
  if (stdin !== undefined) {
    child.child.stdin!.end(stdin);
  }
  const r = await child.then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (e: { code?: number; stdout: string; stderr: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${process.env.TEST_DATABASE_NAME}_cli`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

describe('the idp command line', () => {
  beforeAll(async () => {
    // The CLI runs as built (the package's bin): compile what the test is about to run.
    await exec(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
      },
    );
  }, 240_000);

  describe('on a fresh database (bootstrap and recovery)', () => {
    let db: { url: string; drop: () => Promise<void> };
    let env: Record<string, string>;
    beforeAll(async () => {
      db = await freshDatabase();
      env = {
        DATABASE_URL: db.url,
        IDP_MASTER_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-cli-')),
      };
    });
    afterAll(() => db?.drop());

    it('migrates, reports health, manages tenants and keys, and says what went wrong by exit code', async () => {
      const migrated = await idp(['migrate', '--json'], env);
      expect(migrated.code).toBe(0);
      expect((migrated.json().applied as string[]).length).toBeGreaterThan(5);
      expect((await idp(['migrate'], env)).stdout).toMatch(/up to date/);

      const health = await idp(['health', '--json'], env);
      expect(health.code).toBe(0);
      // The first start on an empty database makes the initial operator key, as the server does.
      expect(health.stderr).toMatch(/initial one was written to .*initial-operator-key/);
      expect(health.json()).toMatchObject({
        status: 'ok',
        database: 'postgresql',
        checks: { migrations: 'ok' },
      });

      const created = await idp(
        ['tenants', 'create', 'acme', '--display-name', 'Acme', '--json'],
        env,
      );
      expect(created.code).toBe(0);
      expect(created.json()).toMatchObject({ tenant_id: 'acme', display_name: 'Acme' });
      const again = await idp(['tenants', 'create', 'acme'], env);
      expect(again.code).toBe(4);
      expect(again.stderr).toMatch(/already exists/);
      expect((await idp(['tenants', 'create', 'Not A Slug'], env)).code).toBe(7);

      const key = await idp(['operator-keys', 'create', '--name', 'ops', '--json'], env);
      expect(key.code).toBe(0);
      expect(key.json().api_key).toMatch(/^idp_op_/);

      const user = await idp(
        ['users', 'create', 'acme', 'alice', '--password-env', 'PW', '--json'],
        { ...env, PW: PASSWORD },
      );
      expect(user.code).toBe(0);
      expect(user.json()).toMatchObject({ username: 'alice' });
      const reset = await idp(
        ['users', 'reset-password', 'acme', 'alice', '--password-stdin'],
        env,
        'another long password\n',
      );
      expect(reset.code).toBe(0);
      expect(
        (
          await idp(['users', 'reset-password', 'acme', 'nobody', '--password-env', 'PW'], {
            ...env,
            PW: PASSWORD,
          })
        ).code,
      ).toBe(3);

      const list = await idp(['tenants', 'list', '--json'], env);
      expect((list.json().data as Array<{ tenant_id: string }>).map((t) => t.tenant_id)).toEqual([
        'acme',
      ]);
      expect((await idp(['tenants', 'delete', 'acme'], env)).code).toBe(2);
      expect((await idp(['tenants', 'delete', 'acme', '--yes'], env)).code).toBe(0);
      expect((await idp(['tenants', 'delete', 'acme', '--yes'], env)).code).toBe(3);
      expect((await idp(['migrate', '--url', 'http://127.0.0.1:9'], env)).code).toBe(2);
    }, 180_000);

    it('prints help and refuses unknown commands and options', async () => {
      const help = await idp(['--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/tenants create <tenant_id>/);
      expect(help.stdout).toMatch(/Exit codes/);
      const sub = await idp(['export', '--help'], env);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/--passphrase-env/);
      expect((await idp(['frobnicate'], env)).code).toBe(2);
      expect((await idp(['tenants', 'list', '--bogus'], env)).code).toBe(2);
      expect((await idp(['tenants', 'create'], env)).code).toBe(2);
    });
  });

  it('works on the embedded database of DATA_DIR, export and import included', async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-cli-embedded-')) };
    expect((await idp(['tenants', 'create', 'solo'], env)).code).toBe(0);
    expect(
      (
        await idp(['users', 'create', 'solo', 'carol', '--password-env', 'PW'], {
          ...env,
          PW: PASSWORD,
        })
      ).code,
    ).toBe(0);
    const exported = await idp(['export', 'solo', '--secrets', 'omit'], env);
    expect(exported.code).toBe(0);
    const imported = await idp(
      ['import', '-', '--tenant', 'solo-copy', '--json'],
      env,
      exported.stdout,
    );
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({ created: true, counts: { users: 1 } });
  }, 180_000);

  describe('against a running server (--url, --key)', () => {
    let t: TestApp;
    let api: (args: string[], extra?: Record<string, string>, stdin?: string) => Promise<Run>;
    beforeAll(async () => {
      t = await startTestApp();
      api = (args, extra = {}, stdin) =>
        idp([...args, '--url', t.baseUrl], { IDP_KEY: t.operatorKey, ...extra }, stdin);
    });
    afterAll(() => t?.close());

    it('creates a tenant, a user and keys, rotates signing keys, and exports and imports the tenant', async () => {
      const id = uniqueTenantId('cli');
      expect((await api(['tenants', 'create', id])).code).toBe(0);
      expect((await t.http('GET', `/api/v1/tenants/${id}`)).status).toBe(200);
      const user = await api(
        [
          'users',
          'create',
          id,
          'bob',
          '--email',
          'bob@example.test',
          '--password-env',
          'PW',
          '--json',
        ],
        {
          PW: PASSWORD,
        },
      );
      expect(user.code).toBe(0);
      const reset = await api(['users', 'reset-password', id, 'bob', '--password-env', 'PW'], {
        PW: 'a brand new password',
      });
      expect(reset.code).toBe(0);

      const before = await t.http('GET', `/api/v1/tenants/${id}/signing-keys`);
      const rotated = await api(['signing-keys', 'rotate', id, '--alg', 'ES256', '--json']);
      expect(rotated.code).toBe(0);
      const after = await t.http('GET', `/api/v1/tenants/${id}/signing-keys`);
      expect(after.body.total_count).toBe(before.body.total_count + 1);

      const key = await api(['operator-keys', 'create', '--name', 'scripted', '--json']);
      const { api_key, key_id } = key.json() as { api_key: string; key_id: string };
      const listed = await idp(
        ['tenants', 'list', '--url', t.baseUrl, '--key', api_key, '--json'],
        {},
      );
      expect(listed.code).toBe(0);
      expect((await api(['operator-keys', 'revoke', key_id])).code).toBe(0);
      const refused = await idp(['tenants', 'list', '--url', t.baseUrl, '--key', api_key], {});
      expect(refused.code).toBe(5);

      const dir = mkdtempSync(join(tmpdir(), 'idp-cli-export-'));
      const file = join(dir, 'tenant.ndjson');
      const exported = await api(['export', id, '--out', file, '--signing-keys'], {
        IDP_TRANSFER_PASSPHRASE: 'a passphrase for the cli test',
      });
      expect(exported.code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').split('\n')[0]).toMatch(/"format":"idp-tenant-export"/);
      const copy = uniqueTenantId('cli-copy');
      const wrong = await api(['import', file, '--tenant', copy], {
        IDP_TRANSFER_PASSPHRASE: 'not the right one',
      });
      expect(wrong.code).toBe(7);
      const imported = await api(['import', file, '--tenant', copy, '--json'], {
        IDP_TRANSFER_PASSPHRASE: 'a passphrase for the cli test',
      });
      expect(imported.code).toBe(0);
      expect(imported.json()).toMatchObject({
        tenant_id: copy,
        created: true,
        counts: { users: 1 },
      });
      const bob = await t.http('GET', `/api/v1/tenants/${copy}/users/by-username/bob`);
      expect(bob.status).toBe(200);

      // To standard output and back in through standard input.
      const piped = await api(['export', id, '--secrets', 'omit']);
      expect(piped.code).toBe(0);
      const again = await api(['import', '-', '--tenant', copy, '--json'], {}, piped.stdout);
      expect(again.code).toBe(0);
      expect(again.json()).toMatchObject({ created: false });
    }, 180_000);

    it('reports health, refusals and an unreachable server by exit code', async () => {
      const health = await api(['health', '--json']);
      expect(health.code).toBe(0);
      expect(health.json()).toMatchObject({ status: 'ok', ready: 'ok' });
      expect(
        (await idp(['tenants', 'list', '--url', t.baseUrl, '--key', 'idp_op_wrong'], {})).code,
      ).toBe(5);
      expect((await idp(['tenants', 'list', '--url', t.baseUrl], {})).code).toBe(2);
      expect((await api(['tenants', 'delete', 'no-such-tenant', '--yes'])).code).toBe(3);
      const down = await idp(['health', '--url', 'http://127.0.0.1:9', '--json'], {});
      expect(down.code).toBe(6);
      expect(JSON.parse(down.stderr)).toMatchObject({ error: { exit_code: 6 } });
    });

    it('works on the database the server uses: a change made there is seen through the API', async () => {
      const id = uniqueTenantId('cli-db');
      const env = {
        DATABASE_URL: t.config.databaseUrl!,
        IDP_MASTER_KEY: t.config.masterKey.toString('hex'),
      };
      expect((await idp(['tenants', 'create', id], env)).code).toBe(0);
      expect((await t.http('GET', `/api/v1/tenants/${id}`)).status).toBe(200);
      const rotated = await idp(['signing-keys', 'rotate', id, '--json'], env);
      expect(rotated.code).toBe(0);
      expect((rotated.json().created as unknown[]).length).toBe(3);
    }, 60_000);
  });
});
