import * as client from 'openid-client';
import { startTestApp, type TestApp } from './harness.js';
import { Browser, createClient, findForm, type BrowserResponse } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';

const REDIRECT = 'https://app.example/cb';

const limits = (ip: number, user: number) => ({
  block_config: {
    ip: { max_attempts: ip, window_seconds: 300, block_seconds: 900 },
    user: { max_attempts: user, window_seconds: 300, block_seconds: 900 },
  },
});

const basic = (id: string, secret: string) =>
  'Basic ' +
  Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

/** The hosted sign-in page of a fresh authorization request. */
async function openLogin(browser: Browser, config: client.Configuration) {
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  let res = await browser.get(url);
  for (let hops = 0; hops < 5 && res.location; hops++) res = await browser.get(res.location);
  expect(res.status).toBe(200);
  expect(res.html).toContain('name="password"');
  return res;
}

function typePassword(browser: Browser, page: BrowserResponse, login: string, password: string) {
  const form = findForm(page.html, '/login');
  return browser.post(new URL(form.action, page.url), { ...form.fields, login, password });
}

/** Wrong passwords typed on the hosted page; answers the page to type on next. */
async function fail(browser: Browser, page: BrowserResponse, logins: string[]) {
  for (const login of logins) {
    page = await typePassword(browser, page, login, 'wrong password');
    expect(page.status).toBe(401);
  }
  return page;
}

/**
 * Each kind of subject the blocker counts (address, typed login, account, client id) is its own
 * namespace; IPv6 counts per /64; failed API keys count per address across the platform.
 */
describe('blocker namespaces', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(() => t.close());

  /** A tenant with alice, a web app (for the hosted pages) and a backend client (the victim). */
  async function setup(settings: Record<string, unknown>) {
    const { tenantId, user, config } = await fixtures.app(t, {
      prefix: 'ns',
      settings,
      client: fixtures.webApp(REDIRECT, {
        grant_types: ['authorization_code'],
        allowed_scopes: ['openid'],
      }),
    });
    const backend = await createClient(t, tenantId, {
      name: 'Backend',
      client_type: 'confidential',
      grant_types: ['client_credentials'],
    });
    return { tenantId, user, config, backend };
  }

  function token(tenantId: string, ip: string, clientId: string, secret: string) {
    return t.http('POST', `/${tenantId}/token`, {
      key: null,
      headers: {
        authorization: basic(clientId, secret),
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': ip,
      },
      body: 'grant_type=client_credentials',
    });
  }

  it('a login typed as client:<id> does not block that client at the token endpoint', async () => {
    const s = await setup(limits(100, 5));
    const { client_id: victim, client_secret: secret } = s.backend;
    const browser = new Browser();
    const page = await openLogin(browser, s.config);
    await fail(
      browser,
      page,
      Array.from({ length: 6 }, () => `client:${victim}`),
    );

    const r = await token(s.tenantId, '192.0.2.200', victim, secret!);
    expect(r.status).toBe(200);
    expect(r.body.access_token).toEqual(expect.any(String));
    // The typed login is blocked as a login, and nothing else is.
    const users = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-users`);
    expect(users.body.data.map((b: { username?: string }) => b.username)).toEqual([
      `client:${victim.toLowerCase()}`,
    ]);
    const clients = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-clients`);
    expect(clients.body.data).toEqual([]);
  });

  it('counts a username and an email of one user as one person', async () => {
    const s = await setup(limits(100, 5));
    const browser = new Browser();
    let page = await openLogin(browser, s.config);
    // 3 + 2 failures: neither login reaches 5, the account does.
    page = await fail(browser, page, [
      'alice',
      'ALICE',
      'alice',
      'alice@example.com',
      'Alice@Example.com',
    ]);
    const right = await typePassword(browser, page, 'alice', PASSWORD);
    expect(right.status).toBe(401);
    expect(right.html).toContain('The username or password is incorrect.');

    const users = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-users`);
    expect(users.body.data).toEqual([
      expect.objectContaining({ user_id: s.user.user_id, attempts: 5 }),
    ]);
    const lifted = await t.http(
      'DELETE',
      `/api/v1/tenants/${s.tenantId}/blocked-users/${s.user.user_id}`,
    );
    expect(lifted.status).toBe(204);
    const again = await typePassword(browser, right, 'alice@example.com', PASSWORD);
    expect(again.status).toBe(303);
  });

  it('counts IPv6 addresses of one /64 together', async () => {
    const s = await setup(limits(3, 100));
    const { client_id: id, client_secret: secret } = s.backend;
    for (const ip of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2:ffff::c']) {
      expect((await token(s.tenantId, ip, id, 'wrong')).status).toBe(401);
    }
    const sameNet = await token(s.tenantId, '2001:db8:1:2:1234::1', id, secret!);
    expect(sameNet.status).toBe(429);
    expect((await token(s.tenantId, '2001:db8:1:3::a', id, secret!)).status).toBe(200);

    const ips = await t.http('GET', `/api/v1/tenants/${s.tenantId}/blocked-ips`);
    expect(ips.body.data.map((b: { ip: string }) => b.ip)).toEqual(['2001:db8:1:2::/64']);
    // Any address of the /64 names the block.
    const lifted = await t.http(
      'DELETE',
      `/api/v1/tenants/${s.tenantId}/blocked-ips/2001:db8:1:2::99`,
    );
    expect(lifted.status).toBe(204);
    expect((await token(s.tenantId, '2001:db8:1:2::a', id, secret!)).status).toBe(200);
  });

  it('blocks an address after 20 bad API keys on /api and /scim; another address is unaffected', async () => {
    const { tenantId } = await fixtures.tenant(t, { prefix: 'ns' });
    const made = await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
      body: { name: 'scim', scopes: ['users:read', 'scim'] },
    });
    const good = made.body.api_key as string;
    const as = (ip: string, key: string, path = `/api/v1/tenants/${tenantId}/users`) =>
      t.http('GET', path, { key, headers: { 'x-forwarded-for': ip } });

    // Twenty failures from addresses of one IPv6 /64.
    for (let i = 1; i <= 20; i++) {
      const r = await as(`2001:db8:77:1::${i.toString(16)}`, `idp_bogus_${i}_0123456789abcdef`);
      expect(r.status).toBe(401);
    }
    const blocked = await as('2001:db8:77:1::abcd', good);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const scim = await t.http('GET', `/${tenantId}/scim/v2/Users`, {
      key: null,
      headers: { authorization: `Bearer ${good}`, 'x-forwarded-for': '2001:db8:77:1::1' },
    });
    expect(scim.status).toBe(429);
    expect(Number(scim.headers.get('retry-after'))).toBeGreaterThan(0);

    // Another address: served, and its bad keys answered 401 as before.
    expect((await as('2001:db8:77:2::1', good)).status).toBe(200);
    expect((await as('198.51.100.9', 'idp_bogus_x_0123456789abcdef')).status).toBe(401);

    // Operators see and lift the block; a tenant key may not.
    expect((await t.http('GET', '/api/v1/blocked-ips', { key: good })).status).toBe(403);
    const list = await t.http('GET', '/api/v1/blocked-ips?page_size=50');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ ip: '2001:db8:77:1::/64', attempts: 20 })]),
    );
    const lifted = await t.http(
      'DELETE',
      `/api/v1/blocked-ips/${encodeURIComponent('2001:db8:77:1::/64')}`,
    );
    expect(lifted.status).toBe(204);
    expect((await as('2001:db8:77:1::abcd', good)).status).toBe(200);
    expect((await t.http('DELETE', '/api/v1/blocked-ips/2001:db8:77:1::1')).status).toBe(404);
  });
});
