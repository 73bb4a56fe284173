import { startTestApp, waitUntil, type TestApp } from './harness.js';
import {
  enrolTotp,
  freshStep,
  PASSWORD,
  passwordStep,
  selfToken,
  startLogin,
  submit,
  tokensOf,
  totpCode,
} from './account-support.js';
import { Browser, type BrowserResponse } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { MailCatcher } from './mail-support.js';
import { headlessTenant } from './headless-support.js';
import { SoftAuthenticator } from './webauthn-support.js';
import { findForm } from './oidc-support.js';

/**
 * Stipulations (issue 19): tenant rules a user meets before a sign-in completes. Each rule:
 * unmet → the hosted sign-in shows its page → met there → the authorisation goes on and the
 * code is redeemed by openid-client.
 */
const path = (tenantId: string, username: string) =>
  `/api/v1/tenants/${tenantId}/signup/username-availability?username=${encodeURIComponent(username)}`;

describe('stipulations', () => {
  let t: TestApp;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function setup(settings: Record<string, unknown>, user: fixtures.UserOptions = {}) {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:write', 'users:read', 'tenants:write', 'tenants:read', 'api-keys:write'],
      settings,
    });
    const email = fixtures.uniqueEmail(tenant.tenantId);
    const x = await fixtures.app(t, {
      within: tenant,
      user: { email, ...user },
      client: fixtures.firstPartyApp(),
    });
    const api = `/api/v1/tenants/${tenant.tenantId}`;
    const getUser = async () => {
      const r = await t.http('GET', `${api}/users/${x.user.user_id}`, { key: tenant.key });
      expect(r.status).toBe(200);
      return r.body;
    };
    return { ...x, email, api, getUser };
  }

  type Setup = Awaited<ReturnType<typeof setup>>;

  /** A password sign-in up to the page that follows the login form. */
  async function signInTo(x: Setup, password = PASSWORD) {
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const page = await passwordStep(b, s, 'alice', password);
    return { b, s, page };
  }

  async function finishes(
    x: Setup,
    b: Browser,
    s: Awaited<ReturnType<typeof startLogin>>,
    res: BrowserResponse,
  ) {
    expect(res.status).toBe(303);
    const tokens = await tokensOf(b, x.config, s, res);
    expect(tokens.claims()!.sub).toBe(x.user.user_id);
  }

  describe('accepted_terms', () => {
    it('asks for the terms, stores version and time, and asks again after a version bump', async () => {
      const x = await setup({
        stipulations: { accepted_terms: true },
        terms_version: '2026-01',
        terms_url: 'https://example.test/terms',
      });
      expect((await x.getUser()).terms_accepted_version).toBeNull();

      const { b, s, page } = await signInTo(x);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Accept the terms');
      expect(page.html).toContain('href="https://example.test/terms"');
      expect(page.html).toContain('2026-01');
      // Without the box ticked: the page again, nothing stored.
      const unticked = await submit(b, page, '/stipulation/terms');
      expect(unticked.status).toBe(400);
      expect((await x.getUser()).terms_accepted_version).toBeNull();
      // A forged state is refused.
      expect(
        (await submit(b, page, '/stipulation/terms', { accept: 'yes', pending: 'v1.x' })).status,
      ).toBe(400);

      const before = Date.now();
      await finishes(x, b, s, await submit(b, unticked, '/stipulation/terms', { accept: 'yes' }));
      const accepted = await x.getUser();
      expect(accepted.terms_accepted_version).toBe('2026-01');
      expect(Date.parse(accepted.terms_accepted_at)).toBeGreaterThanOrEqual(before - 1000);

      // Accepted: the next sign-in goes straight through.
      const again = await signInTo(x);
      await finishes(x, again.b, again.s, again.page);

      // A new version of the terms: asked again, and the new version stored.
      const bump = await t.http('PATCH', `/api/v1/tenants/${x.tenantId}`, {
        key: x.key,
        body: { terms_version: '2026-02' },
      });
      expect(bump.status).toBe(200);
      expect(bump.body.terms_version).toBe('2026-02');
      const renewed = await signInTo(x);
      expect(renewed.page.status).toBe(200);
      expect(renewed.page.html).toContain('has updated its terms');
      await finishes(
        x,
        renewed.b,
        renewed.s,
        await submit(renewed.b, renewed.page, '/stipulation/terms', { accept: 'yes' }),
      );
      expect((await x.getUser()).terms_accepted_version).toBe('2026-02');
    });

    it('is not asked where the tenant does not stipulate it', async () => {
      const x = await setup({ terms_version: '3' });
      const { b, s, page } = await signInTo(x);
      await finishes(x, b, s, page);
    });
  });

  describe('password_changed_after_reset', () => {
    it('makes the user choose a new password after an admin set one', async () => {
      const x = await setup({ stipulations: { password_changed_after_reset: true } });
      // The user's own password from creation: no change asked.
      const first = await signInTo(x);
      await finishes(x, first.b, first.s, first.page);

      const given = 'admin chose this one 1';
      const set = await t.http('PUT', `${x.api}/users/${x.user.user_id}/password`, {
        key: x.key,
        body: { password: given },
      });
      expect(set.status).toBe(204);
      expect((await x.getUser()).password_change_required).toBe(true);

      const { b, s, page } = await signInTo(x, given);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Choose a new password');
      const same = await submit(b, page, '/stipulation/password', {
        new_password: given,
        confirm_password: given,
      });
      expect(same.status).toBe(400);
      expect(same.html).toContain('other than the one you were given');
      const differ = await submit(b, same, '/stipulation/password', {
        new_password: 'my very own secret 2',
        confirm_password: 'my very own secret 3',
      });
      expect(differ.status).toBe(400);
      const short = await submit(b, differ, '/stipulation/password', {
        new_password: 'x',
        confirm_password: 'x',
      });
      expect(short.status).toBe(400);
      const mine = 'my very own secret 2';
      await finishes(
        x,
        b,
        s,
        await submit(b, short, '/stipulation/password', {
          new_password: mine,
          confirm_password: mine,
        }),
      );
      expect((await x.getUser()).password_change_required).toBe(false);
      // The new password signs in without the page; the admin's no longer does.
      const next = await signInTo(x, mine);
      await finishes(x, next.b, next.s, next.page);
      expect((await signInTo(x, given)).page.status).toBe(401);
    });
  });

  describe('second_factor', () => {
    it('enrols a TOTP at sign-in, then finishes', async () => {
      const x = await setup({ stipulations: { second_factor: true } });
      const { b, s, page } = await signInTo(x);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Set up two-step verification');
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.html)![1];
      await freshStep();
      const codes = await submit(b, page, '/enrol', { code: await totpCode(secret) });
      expect(codes.status).toBe(200);
      await finishes(x, b, s, await submit(b, codes, '/continue'));
    });

    it('does not stop a user who has one', async () => {
      const x = await setup({ stipulations: { second_factor: true } });
      const { secret } = await enrolTotp(t, x.tenantId, await selfTokenWithoutStipulation(x));
      const { b, s, page } = await signInTo(x);
      expect(page.status).toBe(200);
      expect(page.html).not.toContain('Set up two-step verification');
      // The next step's code: the current one was spent confirming the enrolment.
      await finishes(
        x,
        b,
        s,
        await submit(b, page, '/second-factor', { code: await totpCode(secret, 1) }),
      );
    });
  });

  describe('passkey', () => {
    it('registers a passkey at sign-in, then finishes; met, the next sign-in goes straight through', async () => {
      const x = await setup({ stipulations: { passkey: true } });
      const { b, s, page } = await signInTo(x);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Add a passkey');
      expect(page.html).not.toContain('Not now');
      const form = findForm(page.html, '/stipulation/passkey');
      const optionsUrl = new URL(form.action.replace(/passkey$/, 'passkey-options'), page.url);
      // Without the step's state: no options.
      expect((await b.post(optionsUrl, { csrf: form.fields.csrf })).status).toBe(400);
      const opts = JSON.parse((await b.post(optionsUrl, form.fields)).html);
      const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
      // A broken answer: the page again.
      const bad = await submit(b, page, '/stipulation/passkey', {
        challenge_id: opts.challenge_id,
        response: '{"id":"x"}',
      });
      expect(bad.status).toBe(400);
      // A challenge is spent by any answer: fresh options for the real one.
      const fresh = JSON.parse((await b.post(optionsUrl, form.fields)).html);
      const done = await submit(b, page, '/stipulation/passkey', {
        challenge_id: fresh.challenge_id,
        response: JSON.stringify(authr.register(fresh.options.challenge)),
      });
      await finishes(x, b, s, done);
      const keys = await t.http('GET', `${x.api}/users/${x.user.user_id}/passkeys`, { key: x.key });
      expect(keys.body.total_count).toBe(1);
      // Met: the next password sign-in goes straight through.
      const next = await signInTo(x);
      await finishes(x, next.b, next.s, next.page);
    });
  });

  /** The self-service token needs a sign-in, which the stipulation would stop: off meanwhile. */
  async function selfTokenWithoutStipulation(x: Setup) {
    const patch = (on: boolean) =>
      t.http('PATCH', `/api/v1/tenants/${x.tenantId}`, {
        key: x.key,
        body: { stipulations: { second_factor: on } },
      });
    expect((await patch(false)).status).toBe(200);
    const token = await selfToken(t, x.tenantId);
    expect((await patch(true)).status).toBe(200);
    return token;
  }

  describe('verified_email', () => {
    it('holds an unverified user at the verify page until the mailed link is opened', async () => {
      const x = await setup({ stipulations: { verified_email: true } });
      const { b, s, page } = await signInTo(x);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Verify your email address');
      expect(page.html).toContain(x.email);
      // Not verified yet: the page again.
      const early = await submit(b, page, '/stipulation/verify-email');
      expect(early.status).toBe(400);
      // The mail, asked from the page.
      const sent = await submit(b, page, '/verify-email/resend');
      expect(sent.status).toBe(200);
      expect(sent.html).toContain('We sent the mail again');
      const token = await verifyToken(x.email);
      const v = await t.http('POST', `${x.api}/email/verify`, { key: null, body: { token } });
      expect(v.status).toBe(200);
      await finishes(x, b, s, await submit(b, sent, '/stipulation/verify-email'));
      expect((await x.getUser()).is_verified).toBe(true);
    });

    it('lets unverified users through where the tenant allows them', async () => {
      const x = await setup({});
      const { b, s, page } = await signInTo(x);
      await finishes(x, b, s, page);
    });
  });

  /** The sign-up page of a fresh authorisation. */
  async function signupPage(x: Setup) {
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const href = /<a href="([^"]+\/signup)">Create an account/.exec(s.page.html)![1];
    const page = await b.get(new URL(href, s.page.url));
    expect(page.status).toBe(200);
    return { b, s, page };
  }

  describe('sign-up', () => {
    it('mails the verification link at sign-up and holds the new user until it is opened', async () => {
      const x = await setup({ register_enable: true, stipulations: { verified_email: true } });
      const { b, s, page } = await signupPage(x);
      const email = fixtures.uniqueEmail(x.tenantId, 'bobby');
      const created = await submit(b, page, '/signup', {
        username: 'bobby',
        email,
        password: PASSWORD,
      });
      expect(created.status).toBe(200);
      // Sign-up mailed the link on its own.
      const token = await verifyToken(email);
      const held = await submit(b, created, '/continue');
      expect(held.status).toBe(200);
      expect(held.html).toContain('Verify your email address');
      expect(
        (await t.http('POST', `${x.api}/email/verify`, { key: null, body: { token } })).status,
      ).toBe(200);
      const done = await submit(b, held, '/stipulation/verify-email');
      expect(done.status).toBe(303);
      const tokens = await tokensOf(b, x.config, s, done);
      const r = await t.http('GET', `${x.api}/users/${tokens.claims()!.sub}`, { key: x.key });
      expect(r.body).toMatchObject({ username: 'bobby', email, is_verified: true });
      expect(smtp.to(email)).toHaveLength(1);
    });

    it('mails the link but lets the user in where the tenant allows unverified users', async () => {
      const x = await setup({ register_enable: true });
      const { b, s, page } = await signupPage(x);
      const email = fixtures.uniqueEmail(x.tenantId, 'carol');
      const created = await submit(b, page, '/signup', {
        username: 'carol',
        email,
        password: PASSWORD,
      });
      await tokensOf(b, x.config, s, await submit(b, created, '/continue'));
      expect(await verifyToken(email)).toMatch(/^[A-Za-z0-9_-]+$/);
    });
  });

  describe('has_username_and_email', () => {
    it('false: sign-up and sign-in ask for the email alone, which is the username', async () => {
      const x = await setup({ register_enable: true, has_username_and_email: false });
      const { b, s, page } = await signupPage(x);
      expect(page.html).not.toContain('name="username"');
      expect(page.html).toContain('name="email"');
      expect(s.page.html).toMatch(/<label for="login">Email<\/label>/);
      expect(s.page.html).toContain('type="email" name="login"');
      const email = fixtures.uniqueEmail(x.tenantId, 'dave');
      const created = await submit(b, page, '/signup', { email, password: PASSWORD });
      expect(created.status).toBe(200);
      const tokens = await tokensOf(b, x.config, s, await submit(b, created, '/continue'));
      const r = await t.http('GET', `${x.api}/users/${tokens.claims()!.sub}`, { key: x.key });
      expect(r.body).toMatchObject({ username: email, email });
      // The same address again: taken.
      const again = await signupPage(x);
      expect(
        (await submit(again.b, again.page, '/signup', { email, password: PASSWORD })).status,
      ).toBe(409);
    });

    it('true (the default): two fields', async () => {
      const x = await setup({ register_enable: true });
      const { s, page } = await signupPage(x);
      expect(page.html).toContain('name="username"');
      expect(page.html).toContain('name="email"');
      expect(s.page.html).toContain('Username or email');
    });
  });

  describe('username availability', () => {
    it('answers taken or free for tenants open to sign-up, and is rate limited by the blocker', async () => {
      const x = await setup({
        register_enable: true,
        block_config: { ip: { max_attempts: 4, window_seconds: 300, block_seconds: 300 } },
      });
      const ask = (u: string) => t.http('GET', path(x.tenantId, u), { key: null });
      const taken = await ask('ALICE');
      expect(taken.status).toBe(200);
      expect(taken.body).toEqual({ username: 'ALICE', available: false });
      expect((await ask(x.email)).body.available).toBe(false);
      expect((await ask('zed')).body).toEqual({ username: 'zed', available: true });
      expect(
        (
          await t.http('GET', `/api/v1/tenants/${x.tenantId}/signup/username-availability`, {
            key: null,
          })
        ).status,
      ).toBe(400);
      // The fourth counted question started a block: the fifth is refused, whatever the name.
      const blocked = await ask('zed2');
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('content-type')).toMatch(/problem\+json/);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // The block is the blocker's: admins see it in the tenant's blocked IPs.
      const list = await t.http('GET', `${x.api}/blocked-ips`, { key: t.operatorKey });
      expect(list.status).toBe(200);
      expect(list.body.total_count).toBe(1);
    });

    it('says nothing for tenants closed to sign-up or unknown', async () => {
      const x = await setup({});
      expect((await t.http('GET', path(x.tenantId, 'alice'), { key: null })).status).toBe(404);
      expect((await t.http('GET', path('no-such-tenant', 'alice'), { key: null })).status).toBe(
        404,
      );
    });
  });

  describe('headless', () => {
    it('answers each unmet rule as the next step, then completes with a code the app redeems', async () => {
      const h = await headlessTenant(t, {
        stipulations: { accepted_terms: true, password_changed_after_reset: true },
        terms_version: 'v7',
        terms_url: 'https://example.test/terms',
      });
      const given = 'admin chose this one 1';
      expect(
        (
          await t.http('PUT', `/api/v1/tenants/${h.tenantId}/users/${h.userId}/password`, {
            body: { password: given },
          })
        ).status,
      ).toBe(204);
      const ui = h.ui();
      const id = (await ui.start()).body.auth_req_id as string;
      const pwd = await ui.post('password', { auth_req_id: id, login: 'alice', password: given });
      expect(pwd.status).toBe(200);
      expect(pwd.body).toMatchObject({
        status: 'continue',
        next: 'stipulation',
        stipulation: 'password_changed_after_reset',
      });
      expect(pwd.body.finish_url).toBeUndefined();
      const mine = 'my very own secret 9';
      const changed = await ui.post('stipulation', {
        auth_req_id: id,
        step_token: pwd.body.step_token,
        new_password: mine,
        confirm_password: mine,
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({
        next: 'stipulation',
        stipulation: 'accepted_terms',
        terms: { version: 'v7', url: 'https://example.test/terms' },
      });
      // Without the terms accepted: the step again, and nothing stored.
      const notNow = await ui.post('stipulation', {
        auth_req_id: id,
        step_token: changed.body.step_token,
      });
      expect(notNow.status).toBe(200);
      expect(notNow.body).toMatchObject({ next: 'stipulation', stipulation: 'accepted_terms' });
      const refused = await ui.post('stipulation', {
        auth_req_id: id,
        step_token: changed.body.step_token,
        accept_terms: false,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.type).toBe('urn:idp:problem:authn-stipulation-unmet');
      // A step token of another step is refused.
      expect(
        (await ui.post('stipulation', { auth_req_id: id, step_token: 'v1.x', accept_terms: true }))
          .status,
      ).toBe(400);
      const done = await ui.post('stipulation', {
        auth_req_id: id,
        step_token: changed.body.step_token,
        accept_terms: true,
      });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('complete');
      const tokens = await ui.finish(done.body.finish_url);
      expect(tokens.claims()!.sub).toBe(h.userId);
      const u = await t.http('GET', `/api/v1/tenants/${h.tenantId}/users/${h.userId}`, {});
      expect(u.body).toMatchObject({
        terms_accepted_version: 'v7',
        password_change_required: false,
      });
    });
  });

  describe('headless passkey', () => {
    it('answers registration options as the step and takes the registration', async () => {
      const h = await headlessTenant(t, { stipulations: { passkey: true } });
      const ui = h.ui();
      const id = (await ui.start()).body.auth_req_id as string;
      const pwd = await ui.post('password', {
        auth_req_id: id,
        login: 'alice',
        password: PASSWORD,
      });
      expect(pwd.body).toMatchObject({ next: 'stipulation', stipulation: 'passkey' });
      const { challenge_id, options } = pwd.body.passkey_options;
      const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
      const done = await ui.post('stipulation', {
        auth_req_id: id,
        step_token: pwd.body.step_token,
        passkey: { challenge_id, response: authr.register(options.challenge) },
      });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('complete');
      expect((await ui.finish(done.body.finish_url)).claims()!.sub).toBe(h.userId);
    });
  });

  function verifyToken(address: string, n = 1): Promise<string> {
    return waitUntil(`verification mail ${n} to ${address}`, () => {
      const mails = smtp.to(address).filter((m) => m.text.includes('verify-email?token='));
      return mails[n - 1] && /verify-email\?token=([A-Za-z0-9_-]+)/.exec(mails[n - 1].text)?.[1];
    });
  }
});
