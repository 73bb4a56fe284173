import { DataSource } from 'typeorm';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import {
  PASSWORD,
  REDIRECT,
  registeredClient,
  firstPartyApp,
  tenant,
  user,
  uniqueEmail,
} from './fixtures.js';
import { MailCatcher, type Mail } from './mail-support.js';
import { Browser, findForm } from './oidc-support.js';
import {
  auxProof,
  changePin,
  follow,
  opaque,
  pinSignIn,
  startAuthorization,
} from './pin-pattern-support.js';
import { userToken } from './user-token-support.js';
import { enrolTotp, follow as followPages, submit, totpCode } from './account-support.js';
import * as client from 'openid-client';
import {
  KEY_STRETCHING,
  policyOf,
  PROTO_VERSION,
  secretOf,
} from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';
import { headlessTenant } from './headless-support.js';

/**
 * PIN/pattern through mailed links (the user's own reset, an admin's enrolment link), the fresh
 * PIN/pattern proof an email change asks for, and the enrolment offer after a TOTP sign-in.
 */
const SETTINGS = { use_pin: true, pin_size: 4, use_pattern: true, login_order: ['PIN', 'PATTERN'] };
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS } as never)!;
const FIRST = secretOf(policy, { pin: '1357', pattern: [6, 3, 0, 1, 2] });
const SECOND = secretOf(policy, { pin: '8642', pattern: [0, 1, 2, 5, 8] });
const THIRD = secretOf(policy, { pin: '0000', pattern: [0, 4, 8, 7] });

describe('PIN/pattern links, proofs and offers', () => {
  let t: TestApp;
  const smtp = new MailCatcher();
  const mails = smtp.mails;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function mailTo(address: string): Promise<Mail> {
    const i = await waitUntil(
      `a mail to ${address}`,
      () => mails.findIndex((m) => m.to.includes(address)) + 1,
      { timeoutMs: 10_000 },
    );
    return mails.splice(i - 1, 1)[0];
  }

  const tokenIn = (mail: Mail, tenantId: string) => {
    const m = new RegExp(
      `${t.baseUrl.replace(/[.]/g, '\\.')}/${tenantId}/login/pin-pattern/reset\\?token=([A-Za-z0-9_-]+)`,
    ).exec(mail.text);
    expect(m).not.toBeNull();
    return m![1];
  };

  /** What the link page's script does: reset/start, finishRegistration, reset/finish. */
  async function setWithLink(tenantId: string, token: string, secret: string, ip = '192.0.2.10') {
    await opaque.ready;
    const headers = { 'x-forwarded-for': ip };
    const reg = opaque.client.startRegistration({ password: secret });
    const r1 = await t.http('POST', `/${tenantId}/authn/zkp/reset/start`, {
      key: null,
      headers,
      body: { token, registration_request: reg.registrationRequest },
    });
    if (r1.status !== 200) return r1;
    const done = opaque.client.finishRegistration({
      clientRegistrationState: reg.clientRegistrationState,
      registrationResponse: r1.body.registration_response,
      password: secret,
      keyStretching: KEY_STRETCHING,
    });
    return t.http('POST', `/${tenantId}/authn/zkp/reset/finish`, {
      key: null,
      headers,
      body: { token, encrypted_commitment: done.registrationRecord, proto_version: PROTO_VERSION },
    });
  }

  async function expireLinks(tenantId: string) {
    await t.app
      .get(DataSource)
      .query(
        `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND purpose = 'pin_pattern'`,
        [tenantId],
      );
  }

  /** A tenant using PIN and pattern, alice with a password and FIRST as PIN/pattern. */
  async function setup(o: { withPin?: boolean } = {}) {
    const { tenantId } = await tenant(t);
    const email = uniqueEmail(tenantId);
    const u = await user(t, tenantId, { email });
    // The token first: the sign-in it takes would otherwise stop at the PIN/pattern offer.
    const token = await userToken(t, tenantId, 'alice', PASSWORD);
    expect((await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: SETTINGS })).status).toBe(
      200,
    );
    if (o.withPin !== false) expect((await changePin(t, tenantId, token, FIRST)).status).toBe(200);
    return { tenantId, email, userId: u.user_id as string, token };
  }

  it('resets a forgotten PIN/pattern through a mailed single-use link', async () => {
    const a = await setup();
    const reset = (tenantId: string, email: string) =>
      t.http('POST', `/${tenantId}/authn/zkp/reset`, {
        key: null,
        body: { email },
        headers: { 'x-forwarded-for': '192.0.2.20' },
      });
    // The sign-in page offers it; its page asks for the address.
    const forgotPage = await t.http('GET', `/${a.tenantId}/login/pin-pattern/forgot`, {
      key: null,
    });
    expect(forgotPage.status).toBe(200);
    expect(forgotPage.text).toContain('Reset your PIN and pattern');

    // Known and unknown addresses: the same answer.
    const known = await reset(a.tenantId, a.email);
    const unknown = await reset(a.tenantId, `nobody-${a.tenantId}@example.test`);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    const mail = await mailTo(a.email);
    expect(mail.subject).toContain('reset your PIN and pattern');
    const token = tokenIn(mail, a.tenantId);

    // The landing page draws the keypad and grid with the routes its script calls.
    const page = await t.http(
      'GET',
      `/${a.tenantId}/login/pin-pattern/reset?token=${encodeURIComponent(token)}`,
      { key: null },
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-mode="enrol"');
    expect(page.text).toContain(`/${a.tenantId}/authn/zkp/reset/start`);
    expect(page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");

    // Another tenant does not know the token.
    const other = await setup();
    const cross = await setWithLink(other.tenantId, token, SECOND);
    expect(cross.status).toBe(400);
    expect(cross.body.type).toBe('urn:idp:problem:invalid-token');

    // Set: the old PIN/pattern stops working, the new one works.
    const set = await setWithLink(a.tenantId, token, SECOND);
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ factors: ['PIN', 'PATTERN'] });
    expect((await pinSignIn(t, a.tenantId, 'alice', FIRST)).finished).toBe(false);
    expect((await pinSignIn(t, a.tenantId, 'alice', SECOND)).authenticate?.status).toBe(200);

    // Once only.
    const again = await setWithLink(a.tenantId, token, THIRD);
    expect(again.status).toBe(400);
    expect(again.body.type).toBe('urn:idp:problem:invalid-token');
    const spentPage = await t.http(
      'GET',
      `/${a.tenantId}/login/pin-pattern/reset?token=${encodeURIComponent(token)}`,
      { key: null },
    );
    expect(spentPage.status).toBe(400);

    // Expired: refused with its own problem, and the PIN/pattern is unchanged.
    expect((await reset(a.tenantId, a.email)).status).toBe(202);
    const late = tokenIn(await mailTo(a.email), a.tenantId);
    await expireLinks(a.tenantId);
    const expired = await setWithLink(a.tenantId, late, THIRD);
    expect(expired.status).toBe(400);
    expect(expired.body.type).toBe('urn:idp:problem:token-expired');
    expect((await pinSignIn(t, a.tenantId, 'alice', SECOND)).authenticate?.status).toBe(200);

    // A user without a PIN/pattern gets no link (the offer after signing in is theirs); the
    // answer is the same. Checked once a later mail to alice (the marker) has landed.
    const bobEmail = uniqueEmail(a.tenantId, 'bob');
    await user(t, a.tenantId, { username: 'bob', email: bobEmail });
    expect((await reset(a.tenantId, bobEmail)).body).toEqual(known.body);
    expect(await smtp.after(a.email, () => reset(a.tenantId, a.email), bobEmail)).toEqual([]);

    // Audited without revealing anything to the caller.
    const events = await t.http(
      'GET',
      `/api/v1/tenants/${a.tenantId}/audit-events?type=pin_pattern.reset_completed`,
    );
    expect(events.body.data).toHaveLength(1);
  });

  it('counts wrong link tokens per IP in the blocker', async () => {
    const a = await setup();
    await t.http('PATCH', `/api/v1/tenants/${a.tenantId}`, {
      body: {
        block_config: {
          ip: { max_attempts: 3, window_seconds: 600, block_seconds: 600 },
          user: { max_attempts: 5, window_seconds: 600, block_seconds: 600 },
        },
      },
    });
    const guess = () =>
      t.http('POST', `/${a.tenantId}/authn/zkp/reset/start`, {
        key: null,
        headers: { 'x-forwarded-for': '192.0.2.66' },
        body: { token: 'A'.repeat(43), registration_request: 'AAAA' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await guess()).status);
    expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
    expect(statuses[3]).toBe(429);
  });

  it('lets an admin send a one-time enrolment link', async () => {
    const a = await setup({ withPin: false });
    const path = `/api/v1/tenants/${a.tenantId}/users/${a.userId}/pin-pattern-links`;
    const made = await t.http('POST', path, { body: { expires_in: 3600 } });
    expect(made.status).toBe(201);
    expect(made.body.mailed).toBe(true);
    const expiresIn = Date.parse(made.body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    const mail = await mailTo(a.email);
    expect(mail.subject).toContain('set your PIN and pattern');
    const token = tokenIn(mail, a.tenantId);
    expect(made.body.url).toBe(`${t.baseUrl}/${a.tenantId}/login/pin-pattern/reset?token=${token}`);
    // Only a hash is stored.
    const rows = await t.app
      .get(DataSource)
      .query(
        `SELECT token_hash FROM email_tokens WHERE tenant_id = $1 AND purpose = 'pin_pattern'`,
        [a.tenantId],
      );
    expect(JSON.stringify(rows)).not.toContain(token);

    // Another tenant's admin cannot make one for this user; nor can a read-only key.
    const other = await tenant(t, { scopes: ['users:write'], settings: SETTINGS });
    const foreign = await t.http(
      'POST',
      `/api/v1/tenants/${a.tenantId}/users/${a.userId}/pin-pattern-links`,
      { key: other.key, body: {} },
    );
    expect(foreign.status).toBe(404);
    const sameIdElsewhere = await t.http(
      'POST',
      `/api/v1/tenants/${other.tenantId}/users/${a.userId}/pin-pattern-links`,
      { key: other.key, body: {} },
    );
    expect(sameIdElsewhere.status).toBe(404);
    const reader = await t.http('POST', `/api/v1/tenants/${a.tenantId}/api-keys`, {
      body: { name: 'reader', scopes: ['users:read'] },
    });
    const readOnly = await t.http('POST', path, { key: reader.body.api_key, body: {} });
    expect(readOnly.status).toBe(403);
    expect((await t.http('POST', path, { body: { expires_in: 10 } })).status).toBe(400);

    // The link in the other tenant: unknown there.
    expect((await setWithLink(other.tenantId, token, FIRST)).body.type).toBe(
      'urn:idp:problem:invalid-token',
    );

    // Used once: the user has a PIN/pattern now, without having signed in.
    expect((await setWithLink(a.tenantId, token, FIRST)).status).toBe(200);
    expect((await pinSignIn(t, a.tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);
    expect((await setWithLink(a.tenantId, token, SECOND)).status).toBe(400);

    // A new link, expired before use: refused.
    const second = await t.http('POST', path, { body: {} });
    expect(second.status).toBe(201);
    await mailTo(a.email);
    const secondToken = new URL(second.body.url).searchParams.get('token')!;
    await expireLinks(a.tenantId);
    const late = await setWithLink(a.tenantId, secondToken, SECOND);
    expect(late.status).toBe(400);
    expect(late.body.type).toBe('urn:idp:problem:token-expired');
    expect((await pinSignIn(t, a.tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);

    const audit = await t.http(
      'GET',
      `/api/v1/tenants/${a.tenantId}/audit-events?type=pin_pattern.link_created`,
    );
    expect(audit.body.data).toHaveLength(2);
  });

  it('asks a user with a PIN/pattern for a fresh proof before an email change', async () => {
    const a = await setup();
    const change = (email: string) =>
      t.http('POST', `/api/v1/tenants/${a.tenantId}/me/email`, {
        key: null,
        headers: { authorization: `Bearer ${a.token}` },
        body: { new_email: email },
      });
    const next = uniqueEmail(a.tenantId, 'alice-new');
    const refused = await change(next);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.type).toBe('urn:idp:problem:pin-pattern-proof-required');

    // A wrong PIN proves nothing.
    expect((await auxProof(t, a.tenantId, a.token, SECOND)).status).toBe(401);
    expect((await change(next)).status).toBe(403);

    expect((await auxProof(t, a.tenantId, a.token, FIRST)).status).toBe(200);
    expect((await change(next)).status).toBe(202);
    expect((await mailTo(next)).subject).toContain('confirm');
    // The proof was spent by that change.
    expect((await change(uniqueEmail(a.tenantId, 'alice-other'))).status).toBe(403);

    // Without a PIN/pattern there is nothing to prove.
    const b = await setup({ withPin: false });
    const plain = await t.http('POST', `/api/v1/tenants/${b.tenantId}/me/email`, {
      key: null,
      headers: { authorization: `Bearer ${b.token}` },
      body: { new_email: uniqueEmail(b.tenantId, 'bob-new') },
    });
    expect(plain.status).toBe(202);
  });

  it('leads the account page through the PIN/pattern proof before an email change', async () => {
    const a = await setup();
    const b = new Browser();
    const login = await followPages(b, await b.get(`${t.baseUrl}/${a.tenantId}/account`));
    const page = await followPages(
      b,
      await submit(b, login, '/login', { login: 'alice', password: PASSWORD, method: 'password' }),
    );
    expect(page.url.pathname).toBe(`/${a.tenantId}/account`);
    expect(page.html).toContain('data-mode="aux"');
    expect(page.html).toContain(`/${a.tenantId}/account/pin-pattern/aux-challenge`);
    expect(page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");
    const form = findForm(page.html, '/account/email');
    const next = uniqueEmail(a.tenantId, 'alice-page');
    const post = (path: string, fields: Record<string, string>) =>
      b.post(new URL(`/${a.tenantId}/account/${path}`, page.url), {
        csrf: form.fields.csrf,
        ...fields,
      });

    // Without the proof: refused, the form again with what to do.
    const refused = await post('email', { new_email: next });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Confirm it is you with your PIN and pattern first.');

    // What the page's script does: aux-challenge, finishLogin, aux-authenticate, then the post.
    await opaque.ready;
    const start = opaque.client.startLogin({ password: FIRST });
    const c = await post('pin-pattern/aux-challenge', { cipherKey: start.startLoginRequest });
    expect(c.status).toBe(200);
    const challenge = JSON.parse(c.html);
    const done = opaque.client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse: challenge.challenge_data,
      password: FIRST,
      keyStretching: KEY_STRETCHING,
    })!;
    // Without the form's CSRF token the JSON routes answer nothing.
    const forged = await b.post(
      new URL(`/${a.tenantId}/account/pin-pattern/aux-authenticate`, page.url),
      { csrf: 'x', challenge_id: challenge.challenge_id, challenge_data: done.finishLoginRequest },
    );
    expect(forged.status).toBe(403);
    const proved = await post('pin-pattern/aux-authenticate', {
      challenge_id: challenge.challenge_id,
      challenge_data: done.finishLoginRequest,
    });
    expect(proved.status).toBe(200);
    expect(JSON.parse(proved.html)).toEqual({ verified: true });
    const changed = await post('email', { new_email: next });
    expect(changed.status).toBe(200);
    expect(changed.html).toContain(`We sent a link to ${next}`);
    expect((await mailTo(next)).subject).toContain('confirm');
  });

  it('offers PIN/pattern enrolment after a password + TOTP sign-in, then finishes the code flow', async () => {
    const { tenantId } = await tenant(t);
    await user(t, tenantId, { email: null });
    const { secret } = await enrolTotp(
      t,
      tenantId,
      await userToken(t, tenantId, 'alice', PASSWORD),
    );
    expect((await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: SETTINGS })).status).toBe(
      200,
    );
    const { config } = await registeredClient(t, tenantId, firstPartyApp());
    const browser = new Browser();
    const auth = await startAuthorization(browser, config, REDIRECT);
    // The sign-in page links to the reset.
    expect(auth.page.html).toContain(`/${tenantId}/login/pin-pattern/forgot`);
    const login = findForm(auth.page.html, '/login');
    const second = await browser.post(new URL(login.action, auth.page.url), {
      ...login.fields,
      method: 'password',
      login: 'alice',
      password: PASSWORD,
    });
    expect(second.html).toContain('Two-step verification');
    const totpForm = findForm(second.html, '/second-factor');
    const offer = await browser.post(new URL(totpForm.action, second.url), {
      ...totpForm.fields,
      code: await totpCode(secret, 1),
    });
    expect(offer.status).toBe(200);
    expect(offer.html).toContain('Set up a PIN and pattern');
    expect(offer.html).toContain('data-mode="enrol"');

    // Set there, as the page's script does, then on to the app.
    const step = findForm(offer.html, '/continue');
    const at = (p: string) =>
      new URL(
        `${new URL(step.action, offer.url).pathname.replace(/\/continue$/, '')}/pin-pattern/${p}`,
        offer.url,
      );
    await opaque.ready;
    const reg = opaque.client.startRegistration({ password: FIRST });
    const started = await browser.post(at('enrol/start'), {
      ...step.fields,
      registration_request: reg.registrationRequest,
    });
    expect(started.status).toBe(200);
    const done = opaque.client.finishRegistration({
      clientRegistrationState: reg.clientRegistrationState,
      registrationResponse: JSON.parse(started.html).registration_response,
      password: FIRST,
      keyStretching: KEY_STRETCHING,
    });
    const saved = await browser.post(at('enrol'), {
      ...step.fields,
      encrypted_commitment: done.registrationRecord,
      proto_version: PROTO_VERSION,
    });
    expect(saved.status).toBe(200);
    const next = await browser.post(new URL(step.action, offer.url), step.fields);
    const { callback } = await follow(browser, next, REDIRECT);
    expect(callback).toBeDefined();
    const tokens = await client.authorizationCodeGrant(config, callback!, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);
  });

  it('offers PIN/pattern enrolment after a TOTP enrolment the tenant demands, once, skippable', async () => {
    const { tenantId } = await tenant(t);
    await user(t, tenantId, { email: null });
    const patch = { ...SETTINGS, is_2fa: true };
    expect((await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: patch })).status).toBe(
      200,
    );
    const { config } = await registeredClient(t, tenantId, firstPartyApp());
    const browser = new Browser();
    const auth = await startAuthorization(browser, config, REDIRECT);
    const login = findForm(auth.page.html, '/login');
    const enrol = await browser.post(new URL(login.action, auth.page.url), {
      ...login.fields,
      method: 'password',
      login: 'alice',
      password: PASSWORD,
    });
    expect(enrol.html).toContain('Set up two-step verification');
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1];
    const enrolForm = findForm(enrol.html, '/enrol');
    const codes = await browser.post(new URL(enrolForm.action, enrol.url), {
      ...enrolForm.fields,
      code: await totpCode(secret),
    });
    expect(codes.status).toBe(200);
    expect(codes.html).toContain('<li><code>');
    const onwards = findForm(codes.html, '/continue');
    const offer = await browser.post(new URL(onwards.action, codes.url), onwards.fields);
    expect(offer.status).toBe(200);
    expect(offer.html).toContain('Set up a PIN and pattern');
    // "Not now" finishes the sign-in rather than offering again.
    const skip = findForm(
      offer.html.slice(offer.html.lastIndexOf('<form method="post"')),
      '/continue',
    );
    const next = await browser.post(new URL(skip.action, offer.url), skip.fields);
    const { callback } = await follow(browser, next, REDIRECT);
    expect(callback).toBeDefined();
    const tokens = await client.authorizationCodeGrant(config, callback!, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
  });

  it('tells a custom UI (headless) to offer a PIN/pattern when the sign-in completes', async () => {
    const h = await headlessTenant(t, SETTINGS);
    const signIn = async () => {
      const ui = h.ui();
      const start = await ui.start();
      const pwd = await ui.post('password', {
        auth_req_id: start.body.auth_req_id,
        login: 'alice',
        password: PASSWORD,
      });
      expect(pwd.status).toBe(200);
      expect(pwd.body.status).toBe('complete');
      const tokens = await ui.finish(pwd.body.finish_url);
      expect(tokens.claims()?.sub).toBe(h.userId);
      return pwd.body;
    };
    expect((await signIn()).pin_pattern_offer).toBe(true);
    // Set (through an admin's link here): no offer any more.
    const link = await t.http(
      'POST',
      `/api/v1/tenants/${h.tenantId}/users/${h.userId}/pin-pattern-links`,
      { body: {} },
    );
    const token = new URL(link.body.url).searchParams.get('token')!;
    expect((await setWithLink(h.tenantId, token, FIRST)).status).toBe(200);
    expect((await signIn()).pin_pattern_offer).toBeUndefined();
  });
});
