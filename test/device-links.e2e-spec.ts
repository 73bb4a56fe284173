import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { startTestApp, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { MailCatcher } from './mail-support.js';
import { Browser, findForm } from './oidc-support.js';
import { userToken } from './user-token-support.js';
import { SoftAuthenticator } from './webauthn-support.js';
import { follow, startLogin, submit, tokensOf } from './account-support.js';

/**
 * Device-addition links (issue 19): made by the user (/me) or an admin, listed and revoked by
 * admins, and followed on another device to register a passkey; passkey-only sign-up.
 */
const tokenOf = (url: string) => new URL(url).pathname.split('/').pop()!;

/** Opens a link page in `b`; answers the page and its form. */
async function open(b: Browser, url: string) {
  const page = await b.get(url);
  return { page, form: page.status === 200 ? findForm(page.html, '/device-link/') : null };
}

/** Runs the page's ceremony with `authr`: options, then the registration post. */
async function registerThrough(b: Browser, url: string, authr: SoftAuthenticator) {
  const { page, form } = await open(b, url);
  expect(page.status).toBe(200);
  const opts = await b.post(new URL(`${form!.action}/options`, page.url), {
    csrf: form!.fields.csrf,
  });
  expect(opts.status).toBe(200);
  const o = JSON.parse(opts.html);
  return b.post(new URL(form!.action, page.url), {
    ...form!.fields,
    challenge_id: o.challenge_id,
    response: JSON.stringify(authr.register(o.options.challenge)),
  });
}

describe('device links', () => {
  let t: TestApp;
  let rpId: string;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
    rpId = new URL(t.baseUrl).hostname;
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function setup(settings: Record<string, unknown> = {}) {
    const tf = await fixtures.tenant(t, {
      scopes: ['users:write', 'users:read', 'api-keys:write', 'audit:read'],
      settings: { display_name: 'Acme Links', ...settings },
    });
    const reader = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/api-keys`, {
      key: tf.key,
      body: { name: 'reader', scopes: ['users:read'] },
    });
    expect(reader.status).toBe(201);
    const email = fixtures.uniqueEmail(tf.tenantId);
    const alice = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/users`, {
      key: tf.key,
      body: { username: 'alice', email, password: PASSWORD, display_name: 'Alice Liddell' },
    });
    const bob = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/users`, {
      key: tf.key,
      body: {
        username: 'bob',
        email: fixtures.uniqueEmail(tf.tenantId, 'bob'),
        password: PASSWORD,
      },
    });
    return {
      ...tf,
      readKey: reader.body.api_key as string,
      email,
      aliceId: alice.body.user_id as string,
      bobId: bob.body.user_id as string,
      admin: (id: string) => `/api/v1/tenants/${tf.tenantId}/users/${id}/device-links`,
    };
  }

  async function auditTypes(x: { tenantId: string; key: string }, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http('GET', `/api/v1/tenants/${x.tenantId}/audit-events?type=${type}`, {
      key: x.key,
    });
    expect(r.status).toBe(200);
    return r.body.data as Array<{
      actor_type: string;
      subject_id: string;
      details: Record<string, unknown>;
    }>;
  }

  it('a signed-in user makes a link; another device registers a passkey with it, once', async () => {
    const x = await setup();
    const token = await userToken(t, x.tenantId, 'alice', PASSWORD);
    const made = await t.http('POST', `/api/v1/tenants/${x.tenantId}/me/device-links`, {
      key: token,
      body: {},
    });
    expect(made.status).toBe(201);
    expect(made.body.url).toMatch(
      new RegExp(`^${t.baseUrl}/${x.tenantId}/device-link/[A-Za-z0-9_-]{43}$`),
    );
    const ttl = Date.parse(made.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    // The user hears of it, without the link itself.
    const [notice] = await smtp.waitFor(x.email, 1);
    expect(notice.subject).toContain('a link to add a device was created');
    expect(notice.text).not.toContain(tokenOf(made.body.url));

    // Admins see it open, never the secret.
    const listed = await t.http('GET', x.admin(x.aliceId), { key: x.readKey });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ total_count: 1, has_next: false });
    expect(listed.body.data[0]).toMatchObject({
      link_id: made.body.link_id,
      status: 'open',
      created_by_type: 'user',
      created_by_id: x.aliceId,
      used_at: null,
    });
    expect(listed.text).not.toContain(tokenOf(made.body.url));

    // The page says whom it is for: display name and a masked address, not the address.
    const b = new Browser();
    const { page } = await open(b, made.body.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Alice Liddell');
    const [local, domain] = x.email.split('@');
    expect(page.html).toContain(`${local[0]}***${local.at(-1)}@${domain}`);
    expect(page.html).not.toContain(x.email);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    // Without the page's cookie (CSRF) the options are refused.
    const form = findForm(page.html, '/device-link/');
    const forged = await new Browser().post(new URL(`${form.action}/options`, page.url), {
      csrf: form.fields.csrf,
    });
    expect(forged.status).toBe(403);

    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    const done = await registerThrough(b, made.body.url, authr);
    expect(done.status).toBe(200);
    expect(done.html).toContain('Passkey added');

    const passkeys = await t.http(
      'GET',
      `/api/v1/tenants/${x.tenantId}/users/${x.aliceId}/passkeys`,
      {
        key: x.readKey,
      },
    );
    expect(passkeys.body.data.map((p: { credential_id: string }) => p.credential_id)).toEqual([
      authr.id,
    ]);
    const after = await t.http('GET', x.admin(x.aliceId), { key: x.readKey });
    expect(after.body.data[0]).toMatchObject({
      status: 'used',
      passkey_id: passkeys.body.data[0].passkey_id,
    });
    const mails = await smtp.waitFor(x.email, 2);
    expect(mails[1].subject).toContain('a sign-in method was added');

    // Used: the page, the options and a second registration all refuse.
    expect((await b.get(made.body.url)).status).toBe(404);
    const again = await b.post(new URL(`${form.action}/options`, page.url), {
      csrf: form.fields.csrf,
    });
    expect(again.status).toBe(400);
    const second = await b.post(new URL(form.action, page.url), {
      csrf: form.fields.csrf,
      challenge_id: '00000000-0000-4000-8000-000000000000',
      response: JSON.stringify(new SoftAuthenticator(rpId, t.baseUrl).register('x')),
    });
    expect(second.status).toBe(404);

    const created = await auditTypes(x, 'device_link.created');
    expect(created[0]).toMatchObject({ actor_type: 'user', subject_id: x.aliceId });
    const used = await auditTypes(x, 'device_link.used');
    expect(used[0].details).toMatchObject({ link_id: made.body.link_id });
  });

  it('admins create (users:write), list (paginated) and revoke links; read-only keys cannot write', async () => {
    const x = await setup();
    expect((await t.http('POST', x.admin(x.aliceId), { key: x.readKey, body: {} })).status).toBe(
      403,
    );
    const one = await t.http('POST', x.admin(x.aliceId), { key: x.key, body: { expires_in: 600 } });
    expect(one.status).toBe(201);
    const ttl = Date.parse(one.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(500_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    const two = await t.http('POST', x.admin(x.aliceId), { key: x.key, body: {} });
    expect(
      (await t.http('POST', x.admin(x.aliceId), { key: x.key, body: { expires_in: 10 } })).status,
    ).toBe(400);

    const p1 = await t.http('GET', `${x.admin(x.aliceId)}?limit=1`, { key: x.readKey });
    expect(p1.body).toMatchObject({ total_count: 2, has_next: true });
    expect(p1.body.data[0].link_id).toBe(two.body.link_id);
    expect(p1.body.data[0].created_by_type).toBe('api_key');

    // Revoking: read-only refused, another user's id is not found, then it is gone for good.
    const del = (userId: string, key: string) =>
      t.http('DELETE', `${x.admin(userId)}/${one.body.link_id}`, { key });
    expect((await del(x.aliceId, x.readKey)).status).toBe(403);
    expect((await del(x.bobId, x.key)).status).toBe(404);
    expect((await open(new Browser(), one.body.url)).page.status).toBe(200);
    expect((await del(x.aliceId, x.key)).status).toBe(204);
    const gone = await open(new Browser(), one.body.url);
    expect(gone.page.status).toBe(404);
    expect(gone.page.html).toContain('was revoked or was already used');
    const list = await t.http('GET', `${x.admin(x.aliceId)}?sort_direction=1`, { key: x.readKey });
    expect(list.body.data.map((l: { status: string }) => l.status)).toEqual(['revoked', 'open']);
    expect((await auditTypes(x, 'device_link.revoked')).length).toBe(1);

    // Unknown users and malformed ids are 404, not 500.
    expect((await t.http('POST', x.admin('nope'), { key: x.key, body: {} })).status).toBe(404);
    expect((await t.http('DELETE', `${x.admin(x.aliceId)}/nope`, { key: x.key })).status).toBe(404);
  });

  it('an expired link shows as expired and registers nothing', async () => {
    const x = await setup();
    const made = await t.http('POST', x.admin(x.aliceId), { key: x.key, body: {} });
    const b = new Browser();
    const { page, form } = await open(b, made.body.url);
    expect(page.status).toBe(200);
    await t.app
      .get(DataSource)
      .query(
        `UPDATE device_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
        [x.tenantId],
      );
    const late = await b.get(made.body.url);
    expect(late.status).toBe(410);
    expect(late.html).toContain('The link has expired');
    const opts = await b.post(new URL(`${form!.action}/options`, page.url), {
      csrf: form!.fields.csrf,
    });
    expect(opts.status).toBe(400);
    const list = await t.http('GET', x.admin(x.aliceId), { key: x.readKey });
    expect(list.body.data[0].status).toBe('expired');
  });

  it('is bound to its tenant and its user', async () => {
    const x = await setup();
    const y = await setup();
    const made = await t.http('POST', x.admin(x.aliceId), { key: x.key, body: {} });
    // Tenant B's path with tenant A's token: nothing there.
    const crossed = made.body.url.replace(`/${x.tenantId}/`, `/${y.tenantId}/`);
    expect((await new Browser().get(crossed)).status).toBe(404);
    // Tenant B's admin key cannot reach tenant A's users.
    expect((await t.http('GET', x.admin(x.aliceId), { key: y.key })).status).toBe(404);
    expect((await t.http('POST', x.admin(x.aliceId), { key: y.key, body: {} })).status).toBe(404);

    // A challenge of Alice's link does not register a passkey through Bob's link.
    const bobs = await t.http('POST', x.admin(x.bobId), { key: x.key, body: {} });
    const b = new Browser();
    const a = await open(b, made.body.url);
    const opts = JSON.parse(
      (
        await b.post(new URL(`${a.form!.action}/options`, a.page.url), {
          csrf: a.form!.fields.csrf,
        })
      ).html,
    );
    const other = await open(b, bobs.body.url);
    const r = await b.post(new URL(other.form!.action, other.page.url), {
      ...other.form!.fields,
      challenge_id: opts.challenge_id,
      response: JSON.stringify(
        new SoftAuthenticator(rpId, t.baseUrl).register(opts.options.challenge),
      ),
    });
    expect(r.status).toBe(400);
    expect(r.html).toContain('The passkey could not be added');
    // Bob's link is still open (a failed ceremony gives it back); Bob has no passkey.
    const bobList = await t.http('GET', x.admin(x.bobId), { key: x.readKey });
    expect(bobList.body.data[0].status).toBe('open');
    const bobKeys = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/${x.bobId}/passkeys`, {
      key: x.readKey,
    });
    expect(bobKeys.body.total_count).toBe(0);
    // Alice's link can still be used, by its own ceremony.
    const ok = await registerThrough(b, made.body.url, new SoftAuthenticator(rpId, t.baseUrl));
    expect(ok.status).toBe(200);
  });

  it('the account page makes a link with its QR code (CSRF, recent sign-in)', async () => {
    const x = await setup();
    const b = new Browser();
    const login = await follow(b, await b.get(`${t.baseUrl}/${x.tenantId}/account`));
    const page = await follow(
      b,
      await submit(b, login, '/login', { login: 'alice', password: PASSWORD }),
    );
    expect(page.url.pathname).toBe(`/${x.tenantId}/account`);
    expect(page.html).toContain('Make a device link');
    expect((await submit(b, page, '/account/device-links', { csrf: 'forged' })).status).toBe(403);
    const made = await submit(b, page, '/account/device-links');
    expect(made.status).toBe(200);
    expect(made.html).toMatch(/<svg role="img" aria-label="QR code of the device link"/);
    const shown = /value="(http[^"]+\/device-link\/[A-Za-z0-9_-]{43})"/.exec(made.html)![1];
    expect((await new Browser().get(shown)).status).toBe(200);
    expect(made.headers.get('content-security-policy')).not.toContain('unsafe-eval');
    const list = await t.http('GET', x.admin(x.aliceId), { key: x.readKey });
    expect(list.body.data[0]).toMatchObject({ status: 'open', created_by_type: 'user' });
    // An old sign-in signs in again first.
    const recent = t.config.recentAuthSeconds;
    t.config.recentAuthSeconds = -1;
    try {
      const old = await submit(b, page, '/account/device-links');
      expect(old.status).toBe(303);
      expect(old.location).toContain('/account/signin?reauth=1');
    } finally {
      t.config.recentAuthSeconds = recent;
    }
    expect((await t.http('GET', x.admin(x.aliceId), { key: x.readKey })).body.total_count).toBe(1);
  });

  it('/me/device-links takes only the user’s own fresh token', async () => {
    const x = await setup();
    const userKey = await t.http('POST', `/api/v1/tenants/${x.tenantId}/api-keys`, {
      key: x.key,
      body: { name: 'alice', scopes: [], user_id: x.aliceId },
    });
    const me = `/api/v1/tenants/${x.tenantId}/me/device-links`;
    expect((await t.http('POST', me, { key: userKey.body.api_key, body: {} })).status).toBe(403);
    expect((await t.http('POST', me, { key: x.key, body: {} })).status).toBe(403);
    expect((await t.http('POST', me, { key: null, body: {} })).status).toBe(401);
  });

  it('passkey-only tenants: sign-up registers a passkey instead of a password', async () => {
    const x = await fixtures.app(t, {
      scopes: ['users:read'],
      settings: { register_enable: true, password_enabled: false, passkey_enabled: true },
      client: fixtures.firstPartyApp(),
    });
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const href = /<a href="([^"]+\/signup)">Create an account/.exec(s.page.html)![1];
    const page = await b.get(new URL(href, s.page.url));
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('name="password"');
    const created = await submit(b, page, '/signup', {
      username: 'carol',
      email: 'carol@example.test',
    });
    expect(created.status).toBe(200);
    expect(created.html).toContain('data-passkey-register');
    expect(created.html).not.toContain('Not now, continue');
    // Skipping the passkey does not sign anybody in.
    const reg = findForm(created.html, '/signup/passkey');
    const skip = await b.post(
      new URL(reg.action.replace('/signup/passkey', '/continue'), created.url),
      reg.fields,
    );
    expect(skip.status).toBe(400);
    const opts = JSON.parse(
      (await b.post(new URL(`${reg.action}-options`, created.url), reg.fields)).html,
    );
    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    const done = await b.post(new URL(reg.action, created.url), {
      ...reg.fields,
      challenge_id: opts.challenge_id,
      response: JSON.stringify(authr.register(opts.options.challenge)),
    });
    const tokens = await tokensOf(b, x.config, s, done);
    const carol = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users?username=carol`, {
      key: x.key,
    });
    expect(carol.body.data[0].user_id).toBe(tokens.claims()!.sub);
    const keys = await t.http(
      'GET',
      `/api/v1/tenants/${x.tenantId}/users/${carol.body.data[0].user_id}/passkeys`,
      { key: x.key },
    );
    expect(keys.body.data[0].credential_id).toBe(authr.id);
  });
});
