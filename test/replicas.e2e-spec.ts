import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { OwnRedis } from '../bench/faults/own-redis.js';
import * as fixtures from './fixtures.js';
import { oauthError } from './oidc-support.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';

/**
 * Two replicas as a load balancer sees them: two applications sharing one PostgreSQL database,
 * one Redis (a redis-server of the test's own), one master key and one PUBLIC_URL. Requests go
 * to either; nothing may depend on which one answered before.
 */
describe('two replicas', () => {
  let redis: OwnRedis;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await OwnRedis.start();
    const env = { REDIS_URL: redis.url, IDP_MASTER_KEY: randomBytes(32).toString('hex') };
    [a, b] = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
    // One public address for both, as behind a load balancer.
    b.config.publicUrl = a.baseUrl;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  /** Requests the relying parties of rp() sent, per replica port. */
  const sent = new Map<string, number>();

  /** The relying party of `x` (with `secret`), its requests sent to `replica`. */
  function rp(
    x: { config: client.Configuration; c: { client_id: string; client_secret?: string } },
    replica: TestApp,
    secret = x.c.client_secret!,
  ): client.Configuration {
    const config = new client.Configuration(
      x.config.serverMetadata(),
      x.c.client_id,
      {},
      client.ClientSecretBasic(secret),
    );
    client.allowInsecureRequests(config);
    config[client.customFetch] = (url, options) => {
      sent.set(replica.baseUrl, (sent.get(replica.baseUrl) ?? 0) + 1);
      return fetch(url.replace(a.baseUrl, replica.baseUrl), options);
    };
    return config;
  }

  const settings = {
    block_config: {
      ip: { max_attempts: 1000, window_seconds: 300, block_seconds: 600 },
      user: { max_attempts: 4, window_seconds: 300, block_seconds: 600 },
    },
  };
  const cc = fixtures.webApp(fixtures.REDIRECT, {
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  });

  it('signs in on A and refreshes on B', async () => {
    const x = await fixtures.app(a, { client: cc });
    const tokens = await fixtures.exchange(x.config, await fixtures.signedIn(x.config));
    const onB = rp(x, b);
    const rotated = await client.refreshTokenGrant(onB, tokens.refresh_token!);
    expect(rotated.access_token).toBeTruthy();
    expect((await client.fetchUserInfo(onB, rotated.access_token, x.user.user_id)).sub).toBe(
      x.user.user_id,
    );
    expect(sent.get(b.baseUrl)).toBe(2);
    // And back on A with the rotated one.
    expect(
      (await client.refreshTokenGrant(x.config, rotated.refresh_token!)).access_token,
    ).toBeTruthy();
  });

  it('a client secret rotated on A stops working on B within a second', async () => {
    const x = await fixtures.app(a, { client: cc });
    const onB = rp(x, b);
    expect((await client.clientCredentialsGrant(onB)).access_token).toBeTruthy();
    const rotated = await a.http(
      'POST',
      `/api/v1/tenants/${x.tenantId}/clients/${x.c.client_id}/secret`,
    );
    expect(rotated.status).toBeLessThan(300);
    await waitUntil(
      'B to refuse the old secret',
      async () => (await oauthError(client.clientCredentialsGrant(onB))) === 'invalid_client',
      { timeoutMs: 1_000, intervalMs: 50 },
    );
    const onBNew = rp(x, b, rotated.body.client_secret as string);
    expect((await client.clientCredentialsGrant(onBNew)).access_token).toBeTruthy();
  });

  it('counts blocker failures on both replicas together', async () => {
    const x = await fixtures.app(a, { settings, client: cc });
    const wrong = (replica: TestApp) =>
      fetch(`${replica.baseUrl}/${x.tenantId}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${x.c.client_id}:wrong-secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      }).then((r) => r.status);
    // Two failures on each: four in all, the client's limit.
    for (const replica of [a, b, a, b]) expect(await wrong(replica)).toBe(401);
    for (const replica of [a, b]) expect(await wrong(replica)).toBe(429);
    const listed = await b.http('GET', `/api/v1/tenants/${x.tenantId}/blocked-clients`);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ client_id: x.c.client_id, attempts: 4 }),
    ]);
  });

  it('a session revoked on B is refused on A', async () => {
    const x = await fixtures.app(a, { client: cc });
    const tokens = await fixtures.exchange(x.config, await fixtures.signedIn(x.config));
    const revoked = await b.http(
      'DELETE',
      `/api/v1/tenants/${x.tenantId}/users/${x.user.user_id}/sessions`,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toBeGreaterThan(0);
    await waitUntil(
      'A to refuse the revoked refresh token',
      async () =>
        (await oauthError(client.refreshTokenGrant(x.config, tokens.refresh_token!))) ===
        'invalid_grant',
      { timeoutMs: 1_000, intervalMs: 50 },
    );
    await expect(
      client.fetchUserInfo(x.config, tokens.access_token, x.user.user_id),
    ).rejects.toThrow();
  });
});
