import { startTestApp, type TestApp } from './harness.js';
import { DataSource } from 'typeorm';
import { AuditService } from '../src/audit/audit.service.js';
import { EmailTokensService } from '../src/email-flows/email-tokens.service.js';
import {
  enrolTotp,
  follow,
  freshStep,
  PASSWORD,
  passwordStep,
  startLogin,
  submit,
  tokensOf,
  totpCode,
  selfToken,
} from './account-support.js';
import * as fixtures from './fixtures.js';
import { Browser, findForm } from './oidc-support.js';

describe('hosted login steps and the account page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup(settings: Record<string, unknown> = {}) {
    const x = await fixtures.app(t, {
      scopes: ['users:write', 'api-keys:write', 'audit:read'],
      settings,
      user: { email: 'alice@example.test' },
      client: fixtures.firstPartyApp(),
    });
    return { ...x, alice: x.user };
  }

  async function auditOf(tenantId: string, key: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?type=${type}&limit=50`,
      {
        key,
      },
    );
    expect(r.status).toBe(200);
    return r.body.data as Array<{
      method: string;
      outcome: string;
      details: Record<string, unknown>;
    }>;
  }

  async function signedInAccount(x: Awaited<ReturnType<typeof setup>>, b = new Browser()) {
    const first = await b.get(`${t.baseUrl}/${x.tenantId}/account`);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`${t.baseUrl}/${x.tenantId}/account/signin`);
    const login = await follow(b, first);
    expect(login.html).toContain('name="password"');
    const after = await submit(b, login, '/login', { login: 'alice', password: PASSWORD });
    const page = await follow(b, after);
    expect(page.status).toBe(200);
    expect(page.url.pathname).toBe(`/${x.tenantId}/account`);
    return { b, page };
  }

  const link = (
    tenantId: string,
    userId: string,
    purpose: 'verify' | 'reset' | 'change',
    email: string,
  ) => t.app.get(EmailTokensService).issueLink(tenantId, userId, purpose, email, 600_000);
  const expire = (tenantId: string) =>
    t.app
      .get(DataSource)
      .query(
        `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`,
        [tenantId],
      );

  describe('second factor', () => {
    it('asks a TOTP user for a code after the password, refuses wrong and replayed codes', async () => {
      const x = await setup();
      const key = await selfToken(t, x.tenantId);
      const { secret } = await enrolTotp(t, x.tenantId, key);
      const browser = new Browser();
      const s = await startLogin(browser, x.config);
      const step = await passwordStep(browser, s, 'alice');
      expect(step.status).toBe(200);
      expect(step.html).toContain('Two-step verification');
      expect(step.html).not.toContain('name="password"');

      // Wrong, malformed and missing codes: the same step again, never a 500.
      const wrong = await submit(browser, step, '/second-factor', { code: '000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.html).toContain('wrong or was already used');
      expect((await submit(browser, step, '/second-factor', { code: '' })).status).toBe(400);
      expect(
        (await submit(browser, step, '/second-factor', { code: 'x'.repeat(5000) })).status,
      ).toBe(401);
      // A tampered or foreign pending state, a missing CSRF token.
      expect(
        (await submit(browser, step, '/second-factor', { pending: 'v1.a.b.c', code: '1' })).status,
      ).toBe(400);
      expect((await submit(browser, step, '/second-factor', { csrf: 'nope' })).status).toBe(403);

      const code = await totpCode(secret, 1);
      const ok = await submit(browser, wrong, '/second-factor', { code });
      expect(ok.status).toBe(303);
      const tokens = await tokensOf(browser, x.config, s, ok);
      expect(tokens.claims()!.sub).toBe(x.alice.user_id);

      // The same code once more, in a new sign-in: refused (no replay within the window).
      const b2 = new Browser();
      const s2 = await startLogin(b2, x.config);
      const step2 = await passwordStep(b2, s2, 'alice');
      expect((await submit(b2, step2, '/second-factor', { code })).status).toBe(401);

      const failures = await auditOf(x.tenantId, x.key, 'login.failure');
      expect(failures.filter((e) => e.method === 'totp').length).toBeGreaterThanOrEqual(2);
      expect(failures.some((e) => e.method === 'recovery_code')).toBe(true);
      const successes = await auditOf(x.tenantId, x.key, 'login.success');
      expect(successes[0].method).toBe('totp');
    });

    it('accepts a recovery code once and refuses it twice after', async () => {
      const x = await setup();
      const key = await selfToken(t, x.tenantId);
      const { recoveryCodes } = await enrolTotp(t, x.tenantId, key);
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const step = await passwordStep(b, s, 'alice');
      const ok = await submit(b, step, '/second-factor', { code: recoveryCodes[0] });
      expect(ok.status).toBe(303);
      await tokensOf(b, x.config, s, ok);
      for (let i = 0; i < 2; i++) {
        const bb = new Browser();
        const ss = await startLogin(bb, x.config);
        const st = await passwordStep(bb, ss, 'alice');
        const again = await submit(bb, st, '/second-factor', { code: recoveryCodes[0] });
        expect(again.status).toBe(401);
      }
      const failures = await auditOf(x.tenantId, x.key, 'login.failure');
      expect(failures.filter((e) => e.method === 'recovery_code')).toHaveLength(2);
      const left = await t.http('GET', `/api/v1/tenants/${x.tenantId}/me/totp`, { key });
      expect(left.body.recovery_codes_left).toBe(9);
    });

    it('counts wrong codes in the brute-force blocker under the user', async () => {
      const x = await setup({
        block_config: { user: { max_attempts: 2, window_seconds: 300, block_seconds: 300 } },
      });
      const key = await selfToken(t, x.tenantId);
      const { secret } = await enrolTotp(t, x.tenantId, key);
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const step = await passwordStep(b, s, 'alice');
      await submit(b, step, '/second-factor', { code: 'wrong-recovery' });
      await submit(b, step, '/second-factor', { code: 'wrong-recovery-2' });
      // Blocked now: even the right code is refused like a wrong one.
      const blocked = await submit(b, step, '/second-factor', { code: await totpCode(secret, 1) });
      expect(blocked.status).toBe(401);
      const reasons = (await auditOf(x.tenantId, x.key, 'login.failure')).map(
        (e) => e.details.reason,
      );
      expect(reasons).toContain('blocked');
    });

    it('enrols users without a second factor at sign-in when the tenant requires 2FA', async () => {
      const x = await setup({ is_2fa: true });
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const page = await passwordStep(b, s, 'alice');
      expect(page.status).toBe(200);
      expect(page.html).toContain('Set up two-step verification');
      expect(page.html).toContain('data:image/png;base64,');
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.html)![1];
      expect(page.html).toContain('otpauth://totp/');

      const wrong = await submit(b, page, '/enrol', { code: '123' });
      expect(wrong.status).toBe(400);
      expect(wrong.html).toContain(secret);
      await freshStep();
      const codes = await submit(b, wrong, '/enrol', { code: await totpCode(secret) });
      expect(codes.status).toBe(200);
      const recovery = [...codes.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map(
        (m) => m[1],
      );
      expect(recovery).toHaveLength(10);
      const done = await submit(b, codes, '/continue');
      await tokensOf(b, x.config, s, done);

      // Next sign-in asks for a code.
      const b2 = new Browser();
      const s2 = await startLogin(b2, x.config);
      const step = await passwordStep(b2, s2, 'alice');
      expect(step.html).toContain('Two-step verification');
      const ok = await submit(b2, step, '/second-factor', { code: recovery[3] });
      await tokensOf(b2, x.config, s2, ok);
    });

    it('refuses the steps with an expired or wrong-stage state', async () => {
      const x = await setup({ is_2fa: true });
      const b = new Browser();
      const s = await startLogin(b, x.config);
      const page = await passwordStep(b, s, 'alice');
      // An enrolment state is not a "done" state.
      const form = findForm(page.html, '/enrol');
      const cont = await b.post(new URL(form.action.replace('/enrol', '/continue'), page.url), {
        ...form.fields,
      });
      expect(cont.status).toBe(400);
      expect(cont.html).toContain('expired');
      // Another interaction's state does not open here.
      const b2 = new Browser();
      const s2 = await startLogin(b2, x.config);
      const csrf2 = findForm(s2.page.html, '/login').fields.csrf;
      const moved = await b2.post(
        new URL(findForm(s2.page.html, '/login').action.replace('/login', '/enrol'), s2.page.url),
        { csrf: csrf2, pending: form.fields.pending, code: '123456' },
      );
      expect(moved.status).toBe(400);
    });
  });

  describe('passkey sign-in', () => {
    it('hands out options only with the CSRF token and refuses bad assertions', async () => {
      const x = await setup();
      const b = new Browser();
      const s = await startLogin(b, x.config);
      expect(s.page.html).toContain('autocomplete="username webauthn"');
      expect(s.page.html).toContain('data-passkey-login');
      expect(s.page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const form = findForm(s.page.html, '/login');
      const optionsUrl = new URL(`${form.action}/passkey-options`, s.page.url);
      const noCsrf = await b.post(optionsUrl, {});
      expect(noCsrf.status).toBe(403);
      const opts = await b.post(optionsUrl, { csrf: form.fields.csrf });
      expect(opts.status).toBe(200);
      const body = JSON.parse(opts.html);
      expect(body.challenge_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.options.userVerification).toBe('required');
      expect(body.options.allowCredentials).toBeUndefined();

      // With a typed username: that user's passkeys, or decoy options of the same shape.
      const named = await b.post(optionsUrl, { csrf: form.fields.csrf, login: 'alice' });
      const unknown = await b.post(optionsUrl, { csrf: form.fields.csrf, login: 'nobody-here' });
      expect(JSON.parse(named.html).options.allowCredentials).toHaveLength(1);
      expect(JSON.parse(unknown.html).options.allowCredentials).toHaveLength(1);
      expect(
        (await b.post(optionsUrl, { csrf: form.fields.csrf, login: 'x'.repeat(300) })).status,
      ).toBe(400);
      const post = (fields: Record<string, string>) =>
        b.post(new URL(form.action, s.page.url), {
          csrf: form.fields.csrf,
          method: 'passkey',
          ...fields,
        });
      const cases: Array<Record<string, string>> = [
        {},
        { challenge_id: body.challenge_id, response: 'not json' },
        { challenge_id: body.challenge_id, response: '[]' },
        { challenge_id: body.challenge_id, response: JSON.stringify({ id: 'abc', response: {} }) },
        { challenge_id: 'nope', response: JSON.stringify({ id: 'abc' }) },
        { challenge_id: body.challenge_id, response: 'x'.repeat(40_000) },
      ];
      for (const fields of cases) {
        const r = await post(fields);
        expect(r.status).toBe(401);
        expect(r.html).toContain('passkey could not be verified');
      }
      const failures = await auditOf(x.tenantId, x.key, 'login.failure');
      expect(failures.some((e) => e.method === 'passkey')).toBe(true);
      // The page's script: same origin, JavaScript, not sniffable as anything else.
      const js = await fetch(`${t.baseUrl}/assets/idp-webauthn.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(js.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await js.text()).toContain('startAuthentication');
    });

    it('hides passkeys when the tenant turns them off', async () => {
      const x = await setup({ passkey_enabled: false });
      const b = new Browser();
      const s = await startLogin(b, x.config);
      expect(s.page.html).not.toContain('data-passkey-login');
      expect(s.page.html).toContain('autocomplete="username"');
      const form = findForm(s.page.html, '/login');
      const r = await b.post(new URL(`${form.action}/passkey-options`, s.page.url), {
        csrf: form.fields.csrf,
      });
      expect(r.status).toBe(403);
    });
  });

  describe('sign-up', () => {
    it('creates an account from the login page when the tenant allows it', async () => {
      const x = await setup({ register_enable: true });
      const b = new Browser();
      const s = await startLogin(b, x.config);
      expect(s.page.html).toContain('Create an account');
      const href = /<a href="([^"]+\/signup)">Create an account/.exec(s.page.html)![1];
      const page = await b.get(new URL(href, s.page.url));
      expect(page.status).toBe(200);
      const bad = [
        { username: 'bad name!', email: 'b@example.test', password: PASSWORD },
        { username: 'bobby', email: 'not-an-email', password: PASSWORD },
        { username: 'bobby', email: 'b@example.test', password: 'short' },
        { username: '', email: '', password: '' },
        { username: 'alice', email: 'other@example.test', password: PASSWORD },
      ];
      for (const fields of bad) {
        const r = await submit(b, page, '/signup', fields);
        expect([400, 409]).toContain(r.status);
        expect(r.html).toContain('role="alert"');
      }
      expect((await submit(b, page, '/signup', { csrf: 'x', username: 'bobby' })).status).toBe(403);
      const created = await submit(b, page, '/signup', {
        username: 'bobby',
        email: 'bobby@example.test',
        password: PASSWORD,
      });
      expect(created.status).toBe(200);
      expect(created.html).toContain('Add a passkey');
      // Passkey registration options need the pending state; continue without one.
      const reg = findForm(created.html, '/signup/passkey');
      const noState = await b.post(new URL(`${reg.action}-options`, created.url), {
        csrf: reg.fields.csrf,
      });
      expect(noState.status).toBe(400);
      const opts = await b.post(new URL(`${reg.action}-options`, created.url), reg.fields);
      expect(opts.status).toBe(200);
      expect(JSON.parse(opts.html).options.authenticatorSelection.residentKey).toBe('required');
      const badReg = await b.post(new URL(reg.action, created.url), {
        ...reg.fields,
        challenge_id: JSON.parse(opts.html).challenge_id,
        response: '{"id":"x"}',
      });
      expect(badReg.status).toBe(400);
      const done = await submit(b, created, '/continue');
      const tokens = await tokensOf(b, x.config, s, done);
      const users = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users?username=bobby`, {
        key: x.key,
      });
      expect(users.body.data[0].user_id).toBe(tokens.claims()!.sub);
    });

    it('refuses sign-up when the tenant does not allow it', async () => {
      const x = await setup();
      const b = new Browser();
      const s = await startLogin(b, x.config);
      expect(s.page.html).not.toContain('Create an account');
      const action = findForm(s.page.html, '/login').action.replace('/login', '/signup');
      expect((await b.get(new URL(action, s.page.url))).status).toBe(403);
      const r = await b.post(new URL(action, s.page.url), {
        csrf: findForm(s.page.html, '/login').fields.csrf,
        username: 'eve',
        email: 'eve@example.test',
        password: PASSWORD,
      });
      expect(r.status).toBe(403);
    });
  });

  describe('password reset pages', () => {
    it('need the form cookie and refuse bad links', async () => {
      const x = await setup();
      const b = new Browser();
      const forgot = await b.get(`${t.baseUrl}/${x.tenantId}/login/forgot`);
      expect(forgot.status).toBe(200);
      expect(b.cookieNames().some((n) => n.startsWith('idp_form@'))).toBe(true);
      expect(
        (await new Browser().post(`${t.baseUrl}/${x.tenantId}/login/forgot`, { email: 'a@b.c' }))
          .status,
      ).toBe(403);
      // No SMTP configured here: the page says so rather than failing.
      const r = await submit(b, forgot, '/forgot', { email: 'alice@example.test' });
      expect(r.status).toBe(503);
      expect((await submit(b, forgot, '/forgot', { email: 'nope' })).status).toBe(400);

      expect((await b.get(`${t.baseUrl}/${x.tenantId}/login/reset`)).status).toBe(400);
      expect((await b.get(`${t.baseUrl}/${x.tenantId}/login/reset?token=%3Cx%3E`)).status).toBe(
        400,
      );
      const page = await b.get(`${t.baseUrl}/${x.tenantId}/login/reset?token=${'a'.repeat(43)}`);
      expect(page.status).toBe(200);
      const mismatch = await submit(b, page, '/reset', { password: PASSWORD, password2: 'other' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.html).toContain('not the same');
      const unknown = await submit(b, page, '/reset', { password: PASSWORD, password2: PASSWORD });
      expect(unknown.status).toBe(400);
      expect(unknown.html).toContain('invalid, expired or already used');
      expect((await b.get(`${t.baseUrl}/no-such-tenant-x/login/forgot`)).status).toBe(404);
      // The API stays JSON-only: a form post to it is 415.
      const api = await fetch(`${t.baseUrl}/api/v1/tenants/${x.tenantId}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': x.key },
        body: 'username=x',
      });
      expect(api.status).toBe(415);
    });
  });

  describe('mailed link pages', () => {
    it('verifies an address with a button, once', async () => {
      const x = await setup();
      const token = await link(x.tenantId, x.alice.user_id, 'verify', 'alice@example.test');
      const b = new Browser();
      const url = `${t.baseUrl}/${x.tenantId}/account/verify-email?token=${token}`;
      const page = await b.get(url);
      expect(page.status).toBe(200);
      // Opening the link changes nothing (mail scanners follow links).
      let u = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`);
      expect(u.body.is_verified).toBe(false);
      expect((await new Browser().post(url.split('?')[0], { token })).status).toBe(403);
      const done = await submit(b, page, '/verify-email');
      expect(done.status).toBe(200);
      expect(done.html).toContain('verified');
      u = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`);
      expect(u.body.is_verified).toBe(true);
      expect((await submit(b, page, '/verify-email')).status).toBe(400);
      expect((await b.get(`${t.baseUrl}/${x.tenantId}/account/verify-email`)).status).toBe(400);
      expect((await submit(b, page, '/verify-email', { token: '<script>' })).status).toBe(400);
    });

    it('refuses expired reset, verification and email-change links', async () => {
      const x = await setup();
      const reset = await link(x.tenantId, x.alice.user_id, 'reset', 'alice@example.test');
      const verify = await link(x.tenantId, x.alice.user_id, 'verify', 'alice@example.test');
      const change = await link(x.tenantId, x.alice.user_id, 'change', 'new@example.test');
      await expire(x.tenantId);
      const b = new Browser();
      const resetPage = await b.get(`${t.baseUrl}/${x.tenantId}/login/reset?token=${reset}`);
      const r = await submit(b, resetPage, '/reset', {
        password: 'new password 123',
        password2: 'new password 123',
      });
      expect(r.status).toBe(400);
      expect(r.html).toContain('invalid, expired or already used');
      for (const [path, token] of [
        ['verify-email', verify],
        ['confirm-email', change],
      ]) {
        const page = await b.get(`${t.baseUrl}/${x.tenantId}/account/${path}?token=${token}`);
        expect((await submit(b, page, `/${path}`)).status).toBe(400);
      }
      // The old password still works: nothing was changed.
      const bb = new Browser();
      const s = await startLogin(bb, x.config);
      expect((await passwordStep(bb, s, 'alice')).status).toBe(303);
    });

    it('confirms an email change', async () => {
      const x = await setup();
      const token = await link(x.tenantId, x.alice.user_id, 'change', 'alice.new@example.test');
      const b = new Browser();
      const page = await b.get(`${t.baseUrl}/${x.tenantId}/account/confirm-email?token=${token}`);
      const done = await submit(b, page, '/confirm-email');
      expect(done.status).toBe(200);
      const u = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`);
      expect(u.body.email).toBe('alice.new@example.test');
    });
  });

  describe('account page', () => {
    it('signs in through the account client and shows the account', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      expect(page.html).toContain('Your account');
      expect(page.html).toContain('alice');
      expect(page.html).toContain('this browser');
      expect(page.html).toContain('Recent sign-ins');
      // The sign-in that brought the user here is already listed (audit writes are batched).
      expect(page.html).not.toContain('No sign-ins recorded yet');
      expect(page.html).toMatch(/<td>Signed in<\/td>\s*<td>password<\/td>/);
      // Browsers ask every page for /favicon.ico: it is served, not a 404.
      const icon = await fetch(`${t.baseUrl}/favicon.ico`);
      expect(icon.status).toBe(200);
      expect(icon.headers.get('content-type')).toBe('image/x-icon');
      expect(Buffer.from(await icon.arrayBuffer()).subarray(0, 4)).toEqual(
        Buffer.from([0, 0, 1, 0]),
      );
      // The account client is an ordinary first-party client of the tenant.
      const c = await t.http('GET', `/api/v1/tenants/${x.tenantId}/clients/idp-account`);
      expect(c.status).toBe(200);
      expect(c.body.first_party).toBe(true);
      // Another visit reuses the session: no sign-in.
      expect((await b.get(`${t.baseUrl}/${x.tenantId}/account`)).status).toBe(200);
      // A callback without the state cookie, or with another state, is refused.
      expect(
        (await new Browser().get(`${t.baseUrl}/${x.tenantId}/account/callback?state=x`)).status,
      ).toBe(400);
      expect(
        (await b.get(`${t.baseUrl}/${x.tenantId}/account/callback?code=x&state=y`)).status,
      ).toBe(400);
      expect((await b.get(`${t.baseUrl}/no-such-tenant-x/account`)).status).toBe(404);
      expect((await b.get(`${t.baseUrl}/${'%27'}/account`)).status).toBe(404);
    });

    it('changes the profile with CSRF protection and validation', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      expect(
        (await submit(b, page, '/profile', { csrf: 'forged', display_name: 'X' })).status,
      ).toBe(403);
      // A post without the session (another browser) goes to sign in.
      const anon = await new Browser().post(`${t.baseUrl}/${x.tenantId}/account/profile`, {
        display_name: 'X',
      });
      expect(anon.status).toBe(303);
      const bad = await submit(b, page, '/profile', {
        display_name: 'Alice',
        locale: 'not a locale!',
      });
      expect(bad.status).toBe(400);
      const tooLong = await submit(b, page, '/profile', {
        display_name: 'A'.repeat(300),
        locale: '',
      });
      expect(tooLong.status).toBe(400);
      const ok = await submit(b, page, '/profile', {
        display_name: 'Alice <Liddell>',
        locale: 'pt-BR',
      });
      expect(ok.status).toBe(200);
      expect(ok.html).toContain('Profile saved');
      expect(ok.html).toContain('Alice &lt;Liddell&gt;');
      expect(ok.html).toContain('lang="pt"');
      const u = await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`);
      expect(u.body.display_name).toBe('Alice <Liddell>');
      expect(u.body.locale).toBe('pt-BR');
    });

    it('changes the password after checking the current one, which ends every session', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      const wrong = await submit(b, page, '/password', {
        current_password: 'nope',
        new_password: 'a new password 123',
        new_password2: 'a new password 123',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.html).toContain('current password is not right');
      const mismatch = await submit(b, page, '/password', {
        current_password: PASSWORD,
        new_password: 'a new password 123',
        new_password2: 'other',
      });
      expect(mismatch.status).toBe(400);
      const weak = await submit(b, page, '/password', {
        current_password: PASSWORD,
        new_password: 'short',
        new_password2: 'short',
      });
      expect(weak.status).toBe(400);
      expect(weak.html).toContain('policy');
      const ok = await submit(b, page, '/password', {
        current_password: PASSWORD,
        new_password: 'a new password 123',
        new_password2: 'a new password 123',
      });
      expect(ok.status).toBe(200);
      expect(ok.html).toContain('Password changed');
      expect((await b.get(`${t.baseUrl}/${x.tenantId}/account`)).status).toBe(303);
    });

    it('sets up and turns off TOTP, regenerates recovery codes', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      const enrol = await submit(b, page, '/totp/enrol');
      expect(enrol.status).toBe(200);
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1];
      expect((await submit(b, enrol, '/totp/confirm', { code: '000000' })).status).toBe(400);
      await freshStep();
      const on = await submit(b, enrol, '/totp/confirm', { code: await totpCode(secret) });
      expect(on.status).toBe(200);
      expect([...on.html.matchAll(/<li><code>/g)]).toHaveLength(10);
      expect(on.html).toContain('Recovery codes left: <strong>10</strong>');
      expect(
        (
          await b.post(`${t.baseUrl}/${x.tenantId}/account/totp/enrol`, {
            csrf: findForm(on.html, '/recovery-codes').fields.csrf,
          })
        ).status,
      ).toBe(409);
      expect((await submit(b, on, '/recovery-codes', { code: 'bad' })).status).toBe(400);
      const regen = await submit(b, on, '/recovery-codes', { code: await totpCode(secret, 1) });
      expect(regen.status).toBe(200);
      const codes = [...regen.html.matchAll(/<li><code>([^<]+)<\/code>/g)].map((m) => m[1]);
      expect(codes).toHaveLength(10);
      expect((await submit(b, regen, '/totp/disable', { code: 'wrong' })).status).toBe(400);
      const off = await submit(b, regen, '/totp/disable', { code: codes[0] });
      expect(off.status).toBe(200);
      expect(off.html).toContain('Two-step verification is <strong>off</strong>');
    });

    it('lists passkeys and refuses bad passkey posts', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      expect(page.html).toContain('You have no passkeys yet');
      const form = findForm(page.html, '/passkeys/register');
      const opts = await b.post(new URL(`${t.baseUrl}/${x.tenantId}/account/passkeys/options`), {
        csrf: form.fields.csrf,
      });
      expect(opts.status).toBe(200);
      const { challenge_id } = JSON.parse(opts.html);
      expect(
        (await b.post(new URL(`${t.baseUrl}/${x.tenantId}/account/passkeys/options`), {})).status,
      ).toBe(403);
      const bad = await submit(b, page, '/passkeys/register', {
        challenge_id,
        response: '{"id":"a"}',
      });
      expect(bad.status).toBe(400);
      expect((await submit(b, page, '/passkeys/register', { response: 'nope' })).status).toBe(400);
      const csrf = form.fields.csrf;
      const missing = `${t.baseUrl}/${x.tenantId}/account/passkeys/00000000-0000-4000-8000-000000000000`;
      expect((await b.post(`${missing}/rename`, { csrf, name: 'x' })).status).toBe(404);
      expect((await b.post(`${missing}/rename`, { csrf, name: '' })).status).toBe(400);
      expect((await b.post(`${missing}/delete`, { csrf })).status).toBe(404);
      expect(
        (await b.post(`${t.baseUrl}/${x.tenantId}/account/passkeys/not-a-uuid/delete`, { csrf }))
          .status,
      ).toBe(404);
    });

    it('signs out through the provider and comes back to the account page', async () => {
      const x = await setup();
      const { b, page } = await signedInAccount(x);
      const form = findForm(page.html, '/logout');
      const url = new URL(form.action, page.url);
      url.search = new URLSearchParams(form.fields).toString();
      const confirm = await b.get(url);
      expect(confirm.status).toBe(200);
      const yes = findForm(confirm.html, '/logout');
      const out = await b.post(new URL(yes.action, url), { ...yes.fields, logout: 'yes' });
      expect(out.status).toBe(303);
      expect(out.location).toBe(`${t.baseUrl}/${x.tenantId}/account`);
      // Signed out: the account page asks to sign in again.
      expect((await b.get(out.location!)).status).toBe(303);
    });

    it('revokes other sessions and signs out', async () => {
      const x = await setup();
      const other = await signedInAccount(x);
      const { b, page } = await signedInAccount(x);
      const ids = [...page.html.matchAll(/\/sessions\/([A-Za-z0-9_-]+)\/revoke/g)].map((m) => m[1]);
      expect(ids).toHaveLength(2);
      const csrf = findForm(page.html, '/profile').fields.csrf;
      const otherId = ids.find(
        (id) =>
          !page.html.includes(
            `${id}/revoke"><input type="hidden" name="csrf" value="${csrf}">\n<button type="submit" class="secondary">Sign out`,
          ),
      )!;
      const r = await b.post(`${t.baseUrl}/${x.tenantId}/account/sessions/${otherId}/revoke`, {
        csrf,
      });
      expect(r.status).toBe(200);
      expect(r.html).toContain('Session ended');
      expect((await other.b.get(`${t.baseUrl}/${x.tenantId}/account`)).status).toBe(303);
      expect(
        (await b.post(`${t.baseUrl}/${x.tenantId}/account/sessions/${otherId}/revoke`, { csrf }))
          .status,
      ).toBe(404);
      expect(
        (await b.post(`${t.baseUrl}/${x.tenantId}/account/sessions/bad$id/revoke`, { csrf }))
          .status,
      ).toBe(404);
      const all = await b.post(`${t.baseUrl}/${x.tenantId}/account/sessions/revoke-all`, { csrf });
      expect(all.status).toBe(200);
      expect(all.html).toContain('Signed out');
      expect((await b.get(`${t.baseUrl}/${x.tenantId}/account`)).status).toBe(303);
    });
  });
});
