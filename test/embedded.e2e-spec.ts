import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { oauthError } from './oidc-support.js';
import * as fixtures from './fixtures.js';

/** Smoke test of the embedded default: no DATABASE_URL, PGlite in DATA_DIR. */
describe('embedded PGlite default', () => {
  let t: TestApp;
  /** Every log line of the first start, and anything written to stdout besides. */
  const logs: string[] = [];
  beforeAll(async () => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      logs.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    try {
      t = await startTestApp({ embedded: true, env: { IDP_BOOTSTRAP_OPERATOR_KEY: '' }, logs });
    } finally {
      process.stdout.write = write;
    }
  }, 60_000);
  afterAll(() => t?.close());

  it('migrates, serves health and readiness, and stores a tenant', async () => {
    expect(t.config.databaseUrl).toBeUndefined();
    expect((await t.http('GET', '/health/ready', { key: null })).status).toBe(200);
    // no bootstrap key configured: the test key is refused, a generated one was written instead
    expect((await t.http('GET', '/api/v1/tenants')).status).toBe(401);
  });

  it('writes the generated operator key to a 0600 file in DATA_DIR and logs only where', async () => {
    const file = join(t.config.dataDir, 'initial-operator-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^idp_op_/);
    expect((await t.http('GET', '/api/v1/tenants', { key })).status).toBe(200);
    expect(logs.some((line) => line.includes(file))).toBe(true);
    expect(logs.filter((line) => line.includes(key))).toEqual([]);
    expect(logs.filter((line) => line.includes(key.slice(7)))).toEqual([]);
  });

  it('works end to end with a bootstrap key on the same data directory', async () => {
    await t.close();
    t = await startTestApp({ embedded: true, env: { DATA_DIR: t.config.dataDir } });
    const tenant_id = uniqueTenantId();
    const created = await t.http('POST', '/api/v1/tenants', {
      body: { tenant_id, display_name: 'Embedded', pin_size: 5 },
    });
    expect(created.status).toBe(201);
    const read = await t.http('GET', `/api/v1/tenants/${tenant_id}`);
    expect(read.body).toMatchObject({ tenant_id, display_name: 'Embedded', pin_size: 5 });
  }, 60_000);

  it('runs the OpenID Provider on the embedded database: sign-in, refresh, userinfo, introspection', async () => {
    const { user, config } = await fixtures.app(t, {
      prefix: 'emb',
      user: { password: 'pglite passphrase' },
      client: fixtures.webApp('http://127.0.0.1:9999/cb', {
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      }),
    });
    const s = await fixtures.signedIn(config, {
      password: 'pglite passphrase',
      redirectUri: 'http://127.0.0.1:9999/cb',
    });
    const tokens = await fixtures.exchange(config, s);
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect((await client.fetchUserInfo(config, rotated.access_token, user.user_id)).sub).toBe(
      user.user_id,
    );
    expect(await client.tokenIntrospection(config, rotated.access_token)).toMatchObject({
      active: true,
      sub: user.user_id,
    });
    // Reuse of the rotated refresh token revokes the grant, on this database too.
    expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect((await client.tokenIntrospection(config, rotated.access_token)).active).toBe(false);

    const cc = await client.clientCredentialsGrant(config);
    expect(cc.access_token.split('.')).toHaveLength(3);
  }, 60_000);
});
