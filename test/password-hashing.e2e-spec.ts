import { waitUntil, startTestApp, type TestApp } from './harness.js';
import { PASSWORD, passwordStep, startLogin, tokensOf } from './account-support.js';
import { Browser } from './oidc-support.js';
import * as fixtures from './fixtures.js';

/**
 * The password hashing budget (decision 0012), observed from outside through /metrics: every
 * verification pays one bcrypt compare, provisioning hashes stay within their bounds, requests
 * carrying too many passwords are refused, and a sign-in is served while a Bulk hashes.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const LIMIT = 60;

/** A Bulk creating `count` users, each with a password. */
function bulkOf(count: number, prefix = 'u') {
  return {
    schemas: [BULK],
    Operations: Array.from({ length: count }, (_, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `b${i}`,
      data: { schemas: [USER], userName: `${prefix}${i}`, password: `bulk password ${i}` },
    })),
  };
}

describe('password hashing budget', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        // A cost at which a 60-password Bulk lasts long enough to sign in during it.
        BCRYPT_COST: '8',
        PASSWORD_HASH_CONCURRENCY: '3',
        PASSWORD_HASH_PER_TENANT: '1',
        PASSWORD_MAX_PER_REQUEST: String(LIMIT),
      },
    });
  });
  afterAll(() => t.close());

  /** One sample of /metrics, e.g. metric('idp_password_hash_operations_total{op="hash"'). */
  async function metric(prefix: string): Promise<number> {
    const r = await t.http('GET', '/metrics', { key: null });
    expect(r.status).toBe(200);
    const line = r.text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }
  const compares = () =>
    metric('idp_password_hash_operations_total{op="compare",priority="interactive"}');
  const bulkHashes = () => metric('idp_password_hash_operations_total{op="hash",priority="bulk"}');
  const peak = () => metric('idp_password_hash_in_flight_peak');

  async function setup() {
    const tenant = await fixtures.app(t, {
      scopes: ['users:write', 'scim'],
      user: { email: 'alice@example.test' },
      client: fixtures.firstPartyApp(),
    });
    const scim = (path: string, body: unknown) =>
      t.http('POST', `/${tenant.tenantId}/scim/v2${path}`, {
        key: null,
        body,
        headers: {
          authorization: `Bearer ${tenant.key}`,
          'content-type': 'application/scim+json',
        },
      });
    return { ...tenant, alice: tenant.user, scim };
  }

  it('never runs more bcrypt hashes at once than the tenant share, or than the bulk bound across tenants', async () => {
    const a = await setup();
    const b = await setup();
    const before = await bulkHashes();
    const one = await a.scim('/Bulk', bulkOf(LIMIT));
    expect(one.status).toBe(200);
    expect(one.body.Operations.every((o: { status: string }) => o.status === '201')).toBe(true);
    expect((await bulkHashes()) - before).toBe(LIMIT);
    // One tenant's Bulk: at most PASSWORD_HASH_PER_TENANT (1) at once.
    expect(await peak()).toBe(1);

    const [ra, rb] = await Promise.all([
      a.scim('/Bulk', bulkOf(LIMIT, 'second')),
      b.scim('/Bulk', bulkOf(LIMIT)),
    ]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect((await bulkHashes()) - before).toBe(3 * LIMIT);
    // Two tenants: one each, and never the slot kept for sign-ins (3 - 1 = 2).
    expect(await peak()).toBe(2);
  });

  it('pays one full bcrypt compare for a known user whose password is longer than bcrypt reads', async () => {
    const x = await setup();
    const attempt = async (login: string, password: string) => {
      const browser = new Browser();
      const s = await startLogin(browser, x.config);
      const before = await compares();
      const res = await passwordStep(browser, s, login, password);
      return { res, s, browser, compares: (await compares()) - before };
    };
    // 73 bytes whose first 72 are the right password padded: bcrypt alone would accept them.
    const long = PASSWORD + 'x'.repeat(72 - PASSWORD.length) + 'y';
    const known = await attempt('alice', long);
    expect(known.res.status).toBe(401);
    expect(known.res.html).toContain('The username or password is incorrect.');
    expect(known.compares).toBe(1);

    const unknown = await attempt('nobody', long);
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.html).toContain('The username or password is incorrect.');
    expect(unknown.compares).toBe(1);

    const right = await attempt('alice', PASSWORD);
    expect(right.compares).toBe(1);
    const tokens = await tokensOf(right.browser, x.config, right.s, right.res);
    expect(tokens.claims()?.sub).toBe(x.alice.user_id);
  });

  it('refuses a users batch or a SCIM Bulk carrying more passwords than the limit, before hashing any', async () => {
    const x = await setup();
    const before = await bulkHashes();
    const users = Array.from({ length: LIMIT + 1 }, (_, i) => ({
      username: `batch${i}`,
      password: `batch password ${i}`,
    }));
    const batch = await t.http('POST', `/api/v1/tenants/${x.tenantId}/users/batch`, {
      key: x.key,
      body: { users },
    });
    expect(batch.status).toBe(413);
    expect(batch.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(batch.body).toMatchObject({
      type: 'urn:idp:problem:too-many-passwords',
      status: 413,
    });
    expect(batch.body.detail).toContain(`at most ${LIMIT} per request`);
    expect(batch.body.detail).toContain('PASSWORD_MAX_PER_REQUEST');

    const bulk = await x.scim('/Bulk', bulkOf(LIMIT + 1));
    expect(bulk.status).toBe(413);
    expect(bulk.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(bulk.body).toMatchObject({ status: '413', scimType: 'tooMany' });
    expect(bulk.body.detail).toContain(`at most ${LIMIT} per request`);

    // A PATCH setting a password counts as well.
    const patches = await x.scim('/Bulk', {
      schemas: [BULK],
      Operations: Array.from({ length: LIMIT + 1 }, () => ({
        method: 'PATCH',
        path: `/Users/${x.alice.user_id}`,
        data: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'password', value: 'a new password 1' }],
        },
      })),
    });
    expect(patches.status).toBe(413);

    expect(await bulkHashes()).toBe(before);
    const list = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users?limit=5`, {
      key: x.key,
    });
    expect(list.body.total_count).toBe(1);
    // Within the limit, and users without passwords, pass.
    const ok = await t.http('POST', `/api/v1/tenants/${x.tenantId}/users/batch`, {
      key: x.key,
      body: { users: [...users.slice(0, LIMIT), { username: 'no-password' }] },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.success_created_count).toBe(LIMIT + 1);
  });

  it('serves a password sign-in while a Bulk of passwords is being hashed', async () => {
    const x = await setup();
    const browser = new Browser();
    const s = await startLogin(browser, x.config);
    const before = await bulkHashes();
    let bulkAnswered = false;
    const bulk = x.scim('/Bulk', bulkOf(LIMIT)).then((r) => {
      bulkAnswered = true;
      return r;
    });
    await waitUntil('the Bulk to start hashing', async () => (await bulkHashes()) !== before, {
      intervalMs: 5,
    });

    const res = await passwordStep(browser, s, 'alice');
    const queued = await metric('idp_password_hash_waiting{priority="bulk"}');
    const hashedBySignIn = (await bulkHashes()) - before;
    // The sign-in's compare went ahead of the Bulk's queued hashes: when it was answered, most
    // of them had not run yet (unbounded, it waited behind all of them: 59 of 60 here).
    expect(bulkAnswered).toBe(false);
    expect(queued).toBeGreaterThan(0);
    expect(hashedBySignIn).toBeLessThan(LIMIT / 2);
    const tokens = await tokensOf(browser, x.config, s, res);
    expect(tokens.claims()?.sub).toBe(x.alice.user_id);

    const done = await bulk;
    expect(done.status).toBe(200);
    expect((await bulkHashes()) - before).toBe(LIMIT);
  });
});
