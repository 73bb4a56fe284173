import { decodeJwt } from 'jose';
import { startTestApp, type TestApp } from './harness.js';
import { enrolTotp, freshStep, selfToken, totpCode } from './account-support.js';
import { CustomUi, HEADLESS_REDIRECT, headlessTenant } from './headless-support.js';
import { createClient, discover, findForm } from './oidc-support.js';
import { PASSWORD } from './fixtures.js';
import { SoftAuthenticator } from './webauthn-support.js';
import * as client from 'openid-client';
import { AuditService } from '../src/audit/audit.service.js';

const P = (code: string) => `urn:idp:problem:${code}`;

/**
 * The headless sign-in API (#18): a custom UI signs users in with JSON steps bound to an
 * authorisation, the browser opens finish_url, and the app redeems the code with openid-client.
 */
describe('headless sign-in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('password then TOTP ends in a code the app redeems; the finished request cannot be replayed', async () => {
    const h = await headlessTenant(t);
    const { secret } = await enrolTotp(t, h.tenantId, await selfToken(t, h.tenantId));
    const ui = h.ui();
    const start = await ui.start();
    expect(start.status).toBe(201);
    expect(start.body).toMatchObject({ status: 'continue', next: 'authenticate' });
    expect(start.body.methods).toEqual(expect.arrayContaining(['password', 'passkey']));
    const id = start.body.auth_req_id as string;

    const pwd = await ui.post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    expect(pwd.status).toBe(200);
    expect(pwd.body).toMatchObject({ status: 'continue', next: 'second_factor' });
    expect(pwd.body.finish_url).toBeUndefined();

    const wrong = await ui.post('second-factor', {
      auth_req_id: id,
      step_token: pwd.body.step_token,
      code: '000000',
    });
    expect([wrong.status, wrong.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // The enrolment used the current step's code: the next step's is still unused.
    const done = await ui.post('second-factor', {
      auth_req_id: id,
      step_token: pwd.body.step_token,
      code: await totpCode(secret, 1),
    });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('complete');
    // Answered but not yet resumed: no second answer for the same request.
    const early = await ui.post('identify', { auth_req_id: id });
    expect([early.status, early.body.type]).toEqual([404, P('authn-request-not-found')]);
    const tokens = await ui.finish(done.body.finish_url);
    expect(decodeJwt(tokens.id_token!).sub).toBe(h.userId);

    // The request is over: its id signs nobody in again.
    const replay = await ui.post('password', {
      auth_req_id: id,
      login: 'alice',
      password: PASSWORD,
    });
    expect([replay.status, replay.body.type]).toEqual([404, P('authn-request-not-found')]);
  });

  it('a passkey (discoverable) signs in on its own', async () => {
    const h = await headlessTenant(t);
    const token = await selfToken(t, h.tenantId);
    const base = `/api/v1/tenants/${h.tenantId}/me/passkeys`;
    const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
    const ro = await t.http('POST', `${base}/registration-options`, { key: token });
    const reg = await t.http('POST', `${base}/registration`, {
      key: token,
      body: {
        challenge_id: ro.body.challenge_id,
        response: authr.register(ro.body.options.challenge),
      },
    });
    expect(reg.status).toBe(201);

    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    const opts = await ui.post('passkey/options', { auth_req_id: id });
    expect(opts.status).toBe(200);
    expect(opts.body.options.allowCredentials).toBeUndefined();
    const bad = await ui.post('passkey/verify', {
      auth_req_id: id,
      challenge_id: opts.body.challenge_id,
      response: authr.assert(opts.body.options.challenge, {
        userHandle: h.userId,
        origin: 'https://evil.test',
      }),
    });
    expect([bad.status, bad.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    const again = await ui.post('passkey/options', { auth_req_id: id, login: 'alice' });
    expect(again.body.options.allowCredentials).toEqual([
      expect.objectContaining({ id: authr.id }),
    ]);
    const ok = await ui.post('passkey/verify', {
      auth_req_id: id,
      challenge_id: again.body.challenge_id,
      response: authr.assert(again.body.options.challenge, { userHandle: h.userId }),
    });
    expect([ok.status, ok.body.status]).toEqual([200, 'complete']);
    const tokens = await ui.finish(ok.body.finish_url);
    expect(decodeJwt(tokens.id_token!).sub).toBe(h.userId);
  });

  it('an interaction from /authorize (the hosted flow) is an auth_req_id too', async () => {
    const h = await headlessTenant(t);
    const ui = h.ui();
    ui.verifier = client.randomPKCECodeVerifier();
    ui.state = client.randomState();
    ui.nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(h.config, {
      redirect_uri: HEADLESS_REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(ui.verifier),
      code_challenge_method: 'S256',
      state: ui.state,
      nonce: ui.nonce,
    });
    const res = await ui.browser.get(url);
    const id = /\/interaction\/([^/?]+)/.exec(res.location!)![1];
    const pwd = await ui.post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    expect(pwd.body.status).toBe('complete');
    const tokens = await ui.finish(pwd.body.finish_url);
    expect(decodeJwt(tokens.id_token!).sub).toBe(h.userId);
  });

  it('failures answer documented problem types and never tell whether an account exists', async () => {
    const h = await headlessTenant(t, { block_config: { user: { max_attempts: 3 } } });
    const other = await headlessTenant(t);
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;

    const wrong = await ui.post('password', {
      auth_req_id: id,
      login: 'alice',
      password: 'nope-nope',
    });
    const nobody = await ui.post('password', {
      auth_req_id: id,
      login: 'nobody',
      password: 'nope-nope',
    });
    expect([wrong.status, wrong.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    expect(nobody.body).toEqual(wrong.body);

    // Another tenant's request id, a made-up one, a forged step token.
    const cross = await other
      .ui()
      .post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    expect([cross.status, cross.body.type]).toEqual([404, P('authn-request-not-found')]);
    const madeUp = await ui.post('identify', { auth_req_id: 'x'.repeat(43) });
    expect([madeUp.status, madeUp.body.type]).toEqual([404, P('authn-request-not-found')]);
    const forged = await ui.post('second-factor', {
      auth_req_id: id,
      step_token: 'abc',
      code: '123456',
    });
    expect([forged.status, forged.body.type]).toEqual([400, P('authn-step-expired')]);
    const malformed = await ui.post('password', { auth_req_id: id, login: 'alice' });
    expect([malformed.status, malformed.body.type]).toEqual([400, P('validation-error')]);

    // A page of another site cannot drive a step with the user's browser.
    const evil = await ui.post('identify', { auth_req_id: id }, { origin: 'https://evil.test' });
    expect([evil.status, evil.body.type]).toEqual([403, P('authn-origin-refused')]);
    const own = await ui.post(
      'identify',
      { auth_req_id: id },
      { origin: new URL(t.baseUrl).origin },
    );
    expect(own.status).toBe(200);
    const app = await ui.post('identify', { auth_req_id: id }, { origin: 'http://127.0.0.1:9999' });
    expect(app.status).toBe(200);

    // The blocker counts headless attempts like the page's: the right password now fails too.
    await ui.post('password', { auth_req_id: id, login: 'alice', password: 'nope-nope' });
    await ui.post('password', { auth_req_id: id, login: 'alice', password: 'nope-nope' });
    const blocked = await ui.post('password', {
      auth_req_id: id,
      login: 'alice',
      password: PASSWORD,
    });
    expect([blocked.status, blocked.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    await t.app.get(AuditService).flush();
    const audit = await t.http(
      'GET',
      `/api/v1/tenants/${h.tenantId}/audit-events?type=login.failure`,
    );
    expect(audit.body.data.length).toBeGreaterThanOrEqual(4);

    // A wrong authorisation request, a closed sign-up, a method the tenant does not offer.
    const evilUi = new CustomUi(t, h.tenantId, h.config, h.clientId, 'https://evil.test');
    const evilStart = await evilUi.start();
    expect([evilStart.status, evilStart.body.type]).toEqual([403, P('authn-origin-refused')]);
    const appStart = await new CustomUi(
      t,
      h.tenantId,
      h.config,
      h.clientId,
      'http://127.0.0.1:9999',
    ).start();
    expect(appStart.status).toBe(201);
    const badStart = await ui.start({ redirect_uri: 'https://evil.test/cb' });
    expect([badStart.status, badStart.body.type]).toEqual([400, P('authn-authorize-refused')]);
    const signup = await ui.post('signup', {
      auth_req_id: id,
      username: 'bob',
      email: 'bob@example.test',
      password: PASSWORD,
    });
    expect([signup.status, signup.body.type]).toEqual([403, P('authn-method-unavailable')]);
    const mail = await ui.post('email-code', { auth_req_id: id, email: 'alice@example.test' });
    expect([mail.status, mail.body.type]).toEqual([403, P('authn-method-unavailable')]);
  });

  it('any first-factor plug-in of the tenant answers through authn/method', async () => {
    const h = await headlessTenant(t);
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    const unknown = await ui.post('method', {
      auth_req_id: id,
      method: 'carrier-pigeon',
      fields: {},
    });
    expect([unknown.status, unknown.body.type]).toEqual([403, P('authn-method-unavailable')]);
    const r = await ui.post('method', {
      auth_req_id: id,
      method: 'password',
      fields: { login: 'alice', password: PASSWORD },
    });
    expect(r.body.status).toBe('complete');
    expect(decodeJwt((await ui.finish(r.body.finish_url)).id_token!).sub).toBe(h.userId);
  });

  it('a third-party client: the hosted consent page follows finish_url, then the code', async () => {
    const h = await headlessTenant(t);
    const c = await createClient(t, h.tenantId, {
      name: 'Third party',
      client_type: 'confidential',
      redirect_uris: [HEADLESS_REDIRECT],
      allowed_scopes: ['openid', 'profile'],
    });
    const config = await discover(h.issuer, c.client_id, c.client_secret);
    const ui = new CustomUi(t, h.tenantId, config, c.client_id);
    const id = (await ui.start()).body.auth_req_id as string;
    const done = await ui.post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    expect(done.body.status).toBe('complete');
    let res = await ui.browser.get(done.body.finish_url);
    while (res.status === 303 && !res.location!.startsWith(HEADLESS_REDIRECT))
      res = await ui.browser.get(res.location!);
    expect(res.html).toContain('/consent');
    const form = findForm(res.html, '/consent');
    const granted = await ui.browser.post(new URL(form.action, res.url), form.fields);
    const tokens = await ui.finish(granted.location!);
    expect(decodeJwt(tokens.id_token!).sub).toBe(h.userId);
  });

  it('a disabled account is refused only after the right password', async () => {
    const h = await headlessTenant(t);
    await t.http('POST', `/api/v1/tenants/${h.tenantId}/users/${h.userId}/disable`);
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    const r = await ui.post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    expect([r.status, r.body.type]).toEqual([403, P('authn-account-refused')]);
  });

  it('JSON sign-up where the tenant allows it, then the tenant-required TOTP enrolment', async () => {
    const h = await headlessTenant(t, { register_enable: true, is_2fa: true });
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    expect((await ui.post('identify', { auth_req_id: id })).body.signup).toBe(true);
    const taken = await ui.post('signup', {
      auth_req_id: id,
      username: 'alice',
      email: 'someone@example.test',
      password: PASSWORD,
    });
    expect([taken.status, taken.body.type]).toEqual([409, P('authn-signup-conflict')]);
    const weak = await ui.post('signup', {
      auth_req_id: id,
      username: 'bob',
      email: 'bob@example.test',
      password: 'short',
    });
    expect([weak.status, weak.body.type]).toEqual([400, P('authn-signup-rejected')]);
    const created = await ui.post('signup', {
      auth_req_id: id,
      username: 'bob',
      email: 'bob@example.test',
      password: PASSWORD,
    });
    expect(created.body).toMatchObject({ status: 'continue', next: 'enrol' });
    await freshStep();
    const enrolled = await ui.post('enrol', {
      auth_req_id: id,
      step_token: created.body.step_token,
      code: await totpCode(created.body.totp.secret),
    });
    expect(enrolled.body.status).toBe('complete');
    expect(enrolled.body.recovery_codes).toHaveLength(10);
    const tokens = await ui.finish(enrolled.body.finish_url);
    const bob = await t.http('GET', `/api/v1/tenants/${h.tenantId}/users/by-username/bob`);
    expect(decodeJwt(tokens.id_token!).sub).toBe(bob.body.user_id);
  });

  it('passkey-only sign-up: no password, the passkey is registered before the sign-in finishes', async () => {
    const h = await headlessTenant(t, {
      register_enable: true,
      password_enabled: false,
      passkey_enabled: true,
    });
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    expect((await ui.post('identify', { auth_req_id: id })).body.signup).toBe(true);
    const created = await ui.post('signup', {
      auth_req_id: id,
      username: 'carol',
      email: 'carol@example.test',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: 'continue', next: 'signup_passkey' });
    expect(created.body.finish_url).toBeUndefined();
    const { challenge_id, options } = created.body.passkey_options;
    const carol = await t.http('GET', `/api/v1/tenants/${h.tenantId}/users/by-username/carol`);
    expect(carol.status).toBe(200);

    // A step token of another stage, or a registration that does not verify: nothing added.
    const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
    const forged = await ui.post('signup/passkey', {
      auth_req_id: id,
      step_token: 'x'.repeat(80),
      challenge_id,
      response: authr.register(options.challenge),
    });
    expect([forged.status, forged.body.type]).toEqual([400, P('authn-step-expired')]);
    const wrong = await ui.post('signup/passkey', {
      auth_req_id: id,
      step_token: created.body.step_token,
      challenge_id,
      response: authr.register('not-the-challenge'),
    });
    expect([wrong.status, wrong.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    const keys = `/api/v1/tenants/${h.tenantId}/users/${carol.body.user_id}/passkeys`;
    expect((await t.http('GET', keys)).body.data).toHaveLength(0);

    const again = await ui.post('signup', {
      auth_req_id: id,
      username: 'dave',
      email: 'dave@example.test',
    });
    const second = again.body.passkey_options;
    const done = await ui.post('signup/passkey', {
      auth_req_id: id,
      step_token: again.body.step_token,
      challenge_id: second.challenge_id,
      response: authr.register(second.options.challenge),
    });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('complete');
    const tokens = await ui.finish(done.body.finish_url);
    const dave = await t.http('GET', `/api/v1/tenants/${h.tenantId}/users/by-username/dave`);
    expect(decodeJwt(tokens.id_token!)).toMatchObject({
      sub: dave.body.user_id,
      amr: expect.arrayContaining(['hwk']),
    });
    const daveKeys = `/api/v1/tenants/${h.tenantId}/users/${dave.body.user_id}/passkeys`;
    expect((await t.http('GET', daveKeys)).body.data).toHaveLength(1);
  });

  it('sign-up with passwords on still needs the password', async () => {
    const h = await headlessTenant(t, { register_enable: true });
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    const none = await ui.post('signup', {
      auth_req_id: id,
      username: 'erin',
      email: 'erin@example.test',
    });
    expect([none.status, none.body.type]).toEqual([400, P('authn-signup-rejected')]);
  });

  it('public: client display info, sign-in policy and autofill options', async () => {
    const h = await headlessTenant(t, { use_pin: true, pin_size: 6 });
    const ui = h.ui();
    const c = await ui.call('GET', `clients/${h.clientId}`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({
      client_id: h.clientId,
      name: 'Custom UI app',
      tenant_id: h.tenantId,
      logo_uri: 'https://app.example.test/logo.png',
    });
    expect((await ui.call('GET', 'clients/nope')).status).toBe(404);
    const p = await ui.call('GET', 'policy');
    expect(p.body).toMatchObject({ tenant_id: h.tenantId, use_pin: true, pin_size: 6 });
    expect(p.body.methods).toEqual(expect.arrayContaining(['password', 'passkey']));
    const autofill = await ui.post('passkey/options', {});
    expect(autofill.status).toBe(200);
    expect(autofill.body.options.challenge).toEqual(expect.any(String));
  });
});
