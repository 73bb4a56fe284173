import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { IdentityLinksService } from '../src/upstream/identity-links.service.js';
import { follow, PASSWORD, submit } from './account-support.js';
import * as fixtures from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { Browser, findForm } from './oidc-support.js';
import { userToken } from './user-token-support.js';

const P = (code: string) => `urn:idp:problem:${code}`;

/**
 * Linked upstream identities (issue 21): the admin API, /me and the account page. Links are
 * made by the upstream sign-in flow (another suite); here by the admin API's pre-link. The
 * test database is read to count links and written only to drop a password (an account made
 * by an upstream sign-in has none).
 */
describe('identity links: admin API, /me, account page', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  async function setup() {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:read', 'users:write', 'upstream-providers:write', 'api-keys:write'],
    });
    const { tenantId, key } = tenant;
    const alice = await fixtures.user(t, tenantId, { email: fixtures.uniqueEmail(tenantId) });
    const base = `/api/v1/tenants/${tenantId}/upstream-providers`;
    for (const body of [
      { provider_id: 'google', preset: 'google', client_id: 'g', icon_url: 'https://g.test/g.svg' },
      { provider_id: 'github', preset: 'github', client_id: 'gh' },
      { provider_id: 'corp', label: 'Corp SSO', issuer: 'https://corp.test', client_id: 'c' },
      {
        provider_id: 'retired',
        label: 'Retired IdP',
        issuer: 'https://old.test',
        client_id: 'o',
        enabled: false,
      },
    ]) {
      const r = await t.http('POST', base, { key, body });
      if (r.status !== 201) throw new Error(`provider: ${r.status} ${r.text}`);
    }
    adminKey = key;
    return { ...tenant, userId: alice.user_id as string };
  }

  /** A link as the sign-in flow would make it, through the admin API's pre-link. */
  let adminKey = '';
  async function link(tenantId: string, userId: string, providerId: string, subject: string) {
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/users/${userId}/identities`, {
      key: adminKey,
      body: { provider_id: providerId, subject, email: `${subject}@upstream.test` },
    });
    if (r.status !== 201) throw new Error(`link: ${r.status} ${r.text}`);
    return r.body.id as string;
  }

  const linkCount = async (tenantId: string, userId: string) =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM user_identity_links WHERE tenant_id = $1 AND user_id = $2`,
        [tenantId, userId],
      )
    )[0].n as number;

  const dropPassword = (tenantId: string, userId: string) =>
    db.query(`UPDATE users SET password_hash = NULL WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);

  async function events(tenantId: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?limit=500&type=${encodeURIComponent(type)}`,
    );
    expect(r.status).toBe(200);
    return r.body.data as Array<Record<string, unknown> & { details: Record<string, unknown> }>;
  }

  it('lets admins list (paginated) and remove links, even the last way in; scopes and tenants apply', async () => {
    const x = await setup();
    const admin = `/api/v1/tenants/${x.tenantId}/users/${x.userId}/identities`;
    const g = await link(x.tenantId, x.userId, 'google', 'g-sub-1');
    const gh = await link(x.tenantId, x.userId, 'github', '583231');

    const all = await t.http('GET', `${admin}?sort_direction=1`, { key: x.key });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total_count: 2, has_next: false });
    expect(all.body.data).toEqual([
      {
        id: g,
        provider_id: 'google',
        label: 'Google',
        icon_url: 'https://g.test/g.svg',
        subject: 'g-sub-1',
        email: 'g-sub-1@upstream.test',
        created_at: expect.any(String),
        last_used_at: null,
      },
      expect.objectContaining({
        id: gh,
        provider_id: 'github',
        label: 'GitHub',
        subject: '583231',
      }),
    ]);
    const first = await t.http('GET', `${admin}?limit=1&sort_direction=1`, { key: x.key });
    expect(first.body).toMatchObject({ total_count: 2, has_next: true });
    expect(first.body.data.map((l: { id: string }) => l.id)).toEqual([g]);
    expect(
      (
        await t.http(
          'GET',
          `/api/v1/tenants/${x.tenantId}/users/${crypto.randomUUID()}/identities`,
          {
            key: x.key,
          },
        )
      ).status,
    ).toBe(404);

    // users:read may list, not remove.
    const reader = await t.http('POST', `/api/v1/tenants/${x.tenantId}/api-keys`, {
      key: x.key,
      body: { name: 'reader', scopes: ['users:read'] },
    });
    expect((await t.http('GET', admin, { key: reader.body.api_key })).status).toBe(200);
    expect((await t.http('DELETE', `${admin}/${g}`, { key: reader.body.api_key })).status).toBe(
      403,
    );

    // Another tenant's admin sees nothing of it.
    const other = await fixtures.tenant(t, { scopes: ['users:read', 'users:write'] });
    expect((await t.http('GET', admin, { key: other.key })).status).toBe(404);
    expect((await t.http('DELETE', `${admin}/${g}`, { key: other.key })).status).toBe(404);
    const otherUser = await fixtures.user(t, other.tenantId, { username: 'mallory' });
    const crossed = `/api/v1/tenants/${other.tenantId}/users/${otherUser.user_id}/identities/${g}`;
    expect((await t.http('DELETE', crossed, { key: other.key })).status).toBe(404);
    expect(await linkCount(x.tenantId, x.userId)).toBe(2);

    // Admins may remove even the last way in: the account keeps what it has (here, nothing).
    await dropPassword(x.tenantId, x.userId);
    expect((await t.http('DELETE', `${admin}/${g}`, { key: x.key })).status).toBe(204);
    expect((await t.http('DELETE', `${admin}/${g}`, { key: x.key })).status).toBe(404);
    expect((await t.http('DELETE', `${admin}/${gh}`, { key: x.key })).status).toBe(204);
    expect((await t.http('GET', admin, { key: x.key })).body.total_count).toBe(0);
    const unlinked = await events(x.tenantId, 'user.identity_unlinked');
    expect(unlinked).toHaveLength(2);
    expect(unlinked[0]).toMatchObject({
      actor_type: 'api_key',
      actor_id: x.keyId,
      subject_type: 'user',
      subject_id: x.userId,
      method: 'upstream',
      details: { by_admin: true },
    });
    expect(unlinked.map((e) => e.details.provider_id).toSorted()).toEqual(['github', 'google']);
  });

  it('keys a link by (provider, subject): a subject links one user, a user one account per provider', async () => {
    const x = await setup();
    const bob = await fixtures.user(t, x.tenantId, { username: 'bob', email: null });
    const links = t.app.get(IdentityLinksService);
    const made = await links.create(x.tenantId, {
      user_id: x.userId,
      provider_id: 'corp',
      subject: 'S-1',
      email: 'a@corp.test',
    });
    expect((await links.findBySubject(x.tenantId, 'corp', 'S-1'))?.id).toBe(made.id);
    await expect(
      links.create(x.tenantId, { user_id: bob.user_id, provider_id: 'corp', subject: 'S-1' }),
    ).rejects.toMatchObject({ kind: 'conflict', code: 'identity-already-linked' });
    await expect(
      links.create(x.tenantId, { user_id: x.userId, provider_id: 'corp', subject: 'S-2' }),
    ).rejects.toMatchObject({ kind: 'conflict', code: 'provider-already-linked' });
    // The same subject at another provider, or in another tenant, is another identity.
    await links.create(x.tenantId, { user_id: bob.user_id, provider_id: 'google', subject: 'S-1' });
    expect(await links.findBySubject('another-tenant', 'corp', 'S-1')).toBeNull();
    // A deleted provider takes its links along; so does a deleted user.
    const providers = `/api/v1/tenants/${x.tenantId}/upstream-providers`;
    expect((await t.http('DELETE', `${providers}/corp`, { key: x.key })).status).toBe(204);
    expect(await links.findBySubject(x.tenantId, 'corp', 'S-1')).toBeNull();
    expect(
      (await t.http('DELETE', `/api/v1/tenants/${x.tenantId}/users/${bob.user_id}`, { key: x.key }))
        .status,
    ).toBe(204);
    expect(await linkCount(x.tenantId, bob.user_id)).toBe(0);
  });

  it('lets admins link an upstream identity ahead of the first sign-in: validated, audited, conflicts 409', async () => {
    const x = await setup();
    const route = (userId: string) => `/api/v1/tenants/${x.tenantId}/users/${userId}/identities`;
    const made = await t.http('POST', route(x.userId), {
      key: x.key,
      body: { provider_id: 'corp', subject: 'CN=alice,OU=staff', email: 'alice@corp.test' },
    });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({
      id: expect.any(String),
      provider_id: 'corp',
      label: 'Corp SSO',
      icon_url: null,
      subject: 'CN=alice,OU=staff',
      email: 'alice@corp.test',
      created_at: expect.any(String),
      last_used_at: null,
    });
    const bob = await fixtures.user(t, x.tenantId, { username: 'bob', email: null });
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      [x.userId, { provider_id: 'nope', subject: 's' }, 400, P('validation-error')],
      [x.userId, { provider_id: 'Bad Id', subject: 's' }, 400, P('validation-error')],
      [x.userId, { provider_id: 'google', subject: '' }, 400, P('validation-error')],
      [x.userId, { provider_id: 'google', subject: 's', extra: 1 }, 400, P('validation-error')],
      [crypto.randomUUID(), { provider_id: 'google', subject: 's' }, 404, P('not-found')],
      [
        bob.user_id,
        { provider_id: 'corp', subject: 'CN=alice,OU=staff' },
        409,
        P('identity-already-linked'),
      ],
      [x.userId, { provider_id: 'corp', subject: 'CN=other' }, 409, P('provider-already-linked')],
    ];
    for (const [userId, body, status, type] of cases) {
      const r = await t.http('POST', route(userId), { key: x.key, body });
      expect([body, r.status, r.body?.type]).toEqual([body, status, type]);
    }
    const reader = await t.http('POST', `/api/v1/tenants/${x.tenantId}/api-keys`, {
      key: x.key,
      body: { name: 'reader', scopes: ['users:read'] },
    });
    const refused = await t.http('POST', route(bob.user_id), {
      key: reader.body.api_key,
      body: { provider_id: 'google', subject: 'b' },
    });
    expect(refused.status).toBe(403);
    const other = await fixtures.tenant(t, { scopes: ['users:write'] });
    const crossed = await t.http('POST', route(bob.user_id), {
      key: other.key,
      body: { provider_id: 'google', subject: 'b' },
    });
    expect(crossed.status).toBe(404);
    expect(await linkCount(x.tenantId, bob.user_id)).toBe(0);
    const linked = await events(x.tenantId, 'user.identity_linked');
    expect(linked).toEqual([
      expect.objectContaining({
        actor_type: 'api_key',
        actor_id: x.keyId,
        subject_id: x.userId,
        details: {
          link_id: made.body.id,
          provider_id: 'corp',
          subject: 'CN=alice,OU=staff',
          by_admin: true,
        },
      }),
    ]);
  });

  it('counts only links to enabled providers as a way in', async () => {
    const x = await setup();
    const me = `/api/v1/tenants/${x.tenantId}/me`;
    const g = await link(x.tenantId, x.userId, 'google', 'g-9');
    const old = await link(x.tenantId, x.userId, 'retired', 'old-9');
    const token = await userToken(t, x.tenantId, 'alice', PASSWORD);
    await dropPassword(x.tenantId, x.userId);
    // The disabled provider's link signs in nobody: Google's is the last way in.
    const last = await t.http('DELETE', `${me}/identities/${g}`, { key: token });
    expect([last.status, last.body.type]).toEqual([409, P('last-sign-in-method')]);
    // And removing the disabled one takes no way in away.
    expect((await t.http('DELETE', `${me}/identities/${old}`, { key: token })).status).toBe(204);
    // Enabled again, a provider's link counts again.
    const corp = await link(x.tenantId, x.userId, 'corp', 'c-9');
    const providers = `/api/v1/tenants/${x.tenantId}/upstream-providers`;
    await t.http('PATCH', `${providers}/corp`, { key: x.key, body: { enabled: false } });
    expect((await t.http('DELETE', `${me}/identities/${g}`, { key: token })).status).toBe(409);
    await t.http('PATCH', `${providers}/corp`, { key: x.key, body: { enabled: true } });
    expect((await t.http('DELETE', `${me}/identities/${g}`, { key: token })).status).toBe(204);
    expect((await t.http('DELETE', `${me}/identities/${corp}`, { key: token })).status).toBe(409);
  });

  it('lists the own links on /me and /me/identities, and unlinks them, never the last way in', async () => {
    const x = await setup();
    const me = `/api/v1/tenants/${x.tenantId}/me`;
    const g = await link(x.tenantId, x.userId, 'google', 'g-2');
    const gh = await link(x.tenantId, x.userId, 'github', '42');
    const token = await userToken(t, x.tenantId, 'alice', PASSWORD);

    const profile = await t.http('GET', me, { key: token });
    expect(profile.status).toBe(200);
    expect(profile.body.user_id).toBe(x.userId);
    expect(profile.body.identities.map((l: { provider_id: string }) => l.provider_id)).toEqual([
      'google',
      'github',
    ]);
    expect(profile.body.identities[0]).toMatchObject({
      id: g,
      label: 'Google',
      icon_url: 'https://g.test/g.svg',
      subject: 'g-2',
    });
    const listed = await t.http('GET', `${me}/identities`, { key: token });
    expect(listed.body.data.map((l: { id: string }) => l.id)).toEqual([g, gh]);

    // A user key reads (me:read) but may not unlink (me:credentials is token-only).
    const userKey = await t.http('POST', `${me}/api-keys`, {
      key: token,
      body: { name: 'cli', scopes: ['me:read'] },
    });
    expect(userKey.status).toBe(201);
    expect((await t.http('GET', `${me}/identities`, { key: userKey.body.api_key })).status).toBe(
      200,
    );
    expect(
      (await t.http('DELETE', `${me}/identities/${g}`, { key: userKey.body.api_key })).status,
    ).toBe(403);

    // Someone else's link is unknown.
    const bob = await fixtures.user(t, x.tenantId, { username: 'bob', email: null });
    const bobs = await link(x.tenantId, bob.user_id, 'corp', 'bob-sub');
    expect((await t.http('DELETE', `${me}/identities/${bobs}`, { key: token })).status).toBe(404);
    expect((await t.http('DELETE', `${me}/identities/not-a-uuid`, { key: token })).status).toBe(
      404,
    );

    // With a password, any link may go.
    expect((await t.http('DELETE', `${me}/identities/${g}`, { key: token })).status).toBe(204);
    // Without a password, passkey or PIN/pattern, the last link stays.
    await dropPassword(x.tenantId, x.userId);
    const last = await t.http('DELETE', `${me}/identities/${gh}`, { key: token });
    expect([last.status, last.body.type]).toEqual([409, P('last-sign-in-method')]);
    expect(last.headers.get('content-type')).toContain('application/problem+json');
    expect(await linkCount(x.tenantId, x.userId)).toBe(1);
    // With another link, this one may go; then that one is the last.
    const corp = await link(x.tenantId, x.userId, 'corp', 'alice-corp');
    expect((await t.http('DELETE', `${me}/identities/${gh}`, { key: token })).status).toBe(204);
    expect((await t.http('DELETE', `${me}/identities/${corp}`, { key: token })).status).toBe(409);
    expect((await t.http('GET', me, { key: token })).body.identities).toHaveLength(1);

    const unlinked = await events(x.tenantId, 'user.identity_unlinked');
    expect(unlinked).toHaveLength(2);
    expect(unlinked[0]).toMatchObject({
      actor_type: 'user',
      actor_id: x.userId,
      subject_id: x.userId,
      details: { by_admin: false },
    });
  });

  it('shows Connected accounts on the account page and unlinks through its CSRF form', async () => {
    const x = await setup();
    await link(x.tenantId, x.userId, 'google', 'g-3');
    const gh = await link(x.tenantId, x.userId, 'github', '777');
    const b = new Browser();
    const login = await follow(b, await b.get(`${t.baseUrl}/${x.tenantId}/account`));
    const page = await follow(
      b,
      await submit(b, login, '/login', { login: 'alice', password: PASSWORD }),
    );
    expect(page.url.pathname).toBe(`/${x.tenantId}/account`);
    expect(page.html).toContain('Connected accounts');
    expect(page.html).toContain('g-3@upstream.test');
    expect(page.html).toContain('aria-label="Disconnect GitHub"');
    // Connect buttons for the enabled providers not linked yet, pointing at the link route.
    expect(page.html).toContain(`href="/${x.tenantId}/upstream/corp/link"`);
    expect(page.html).toContain('Connect Corp SSO');
    expect(page.html).not.toContain('Connect Google');
    expect(page.html).not.toContain('Retired IdP');

    const form = findForm(page.html, `/connected/${gh}/unlink`);
    const action = new URL(form.action, page.url);
    expect((await b.post(action, { ...form.fields, csrf: 'forged' })).status).toBe(403);
    expect((await b.post(action, {})).status).toBe(403);
    expect(await linkCount(x.tenantId, x.userId)).toBe(2);
    const done = await b.post(action, form.fields);
    expect(done.status).toBe(200);
    expect(done.html).toContain('GitHub is disconnected.');
    expect(done.html).toContain('Connect GitHub');
    expect(await linkCount(x.tenantId, x.userId)).toBe(1);

    // The last way in stays, with a message the user can act on.
    await dropPassword(x.tenantId, x.userId);
    const again = await b.get(`${t.baseUrl}/${x.tenantId}/account`);
    const googleLink = (
      await db.query(`SELECT id FROM user_identity_links WHERE tenant_id = $1 AND user_id = $2`, [
        x.tenantId,
        x.userId,
      ])
    )[0].id as string;
    const refused = await submit(b, again, `/connected/${googleLink}/unlink`);
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('it is the only way left to sign in');
    expect(await linkCount(x.tenantId, x.userId)).toBe(1);
    // Another user's link id is refused as unknown.
    const bob = await fixtures.user(t, x.tenantId, { username: 'bob', email: null });
    const bobs = await link(x.tenantId, bob.user_id, 'corp', 'bob-corp');
    const csrf = findForm(again.html, '/profile').fields.csrf;
    const foreign = await b.post(`${t.baseUrl}/${x.tenantId}/account/connected/${bobs}/unlink`, {
      csrf,
    });
    expect(foreign.status).toBe(404);
    expect(await linkCount(x.tenantId, bob.user_id)).toBe(1);
  });
});
