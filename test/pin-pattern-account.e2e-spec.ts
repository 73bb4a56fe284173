import { startTestApp, type TestApp } from './harness.js';
import { firstPartyApp, PASSWORD, REDIRECT, registeredClient, tenant, user } from './fixtures.js';
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
import {
  KEY_STRETCHING,
  policyOf,
  PROTO_VERSION,
  secretOf,
} from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

/**
 * A signed-in user sets and changes a PIN/pattern with their own token, re-proves it
 * (aux-challenge), and an admin resets it.
 */
const SETTINGS = { use_pin: true, pin_size: 4, use_pattern: true, login_order: ['PATTERN', 'PIN'] };
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS } as never)!;
const FIRST = secretOf(policy, { pin: '1357', pattern: [6, 3, 0, 1, 2] });
const SECOND = secretOf(policy, { pin: '8642', pattern: [0, 1, 2, 5, 8] });

describe('PIN/pattern for a signed-in user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('sets, changes, re-proves and resets', async () => {
    // PIN/pattern turned on after the password sign-in (which would otherwise offer it).
    const { tenantId } = await tenant(t);
    const u = await user(t, tenantId, { email: null });
    const token = await userToken(t, tenantId, 'alice', PASSWORD);
    const on = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: SETTINGS });
    expect(on.status).toBe(200);
    const me = (path = 'me') =>
      t.http('GET', `/${tenantId}/authn/zkp/${path}`, {
        key: null,
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await me()).body).toMatchObject({ enrolled: false, factors: [] });
    // Not signed in: the signed-in routes refuse, and sign-up is closed here.
    const anon = await t.http('POST', `/${tenantId}/authn/zkp/change/start`, {
      key: null,
      body: { registration_request: 'AAAA' },
    });
    expect(anon.status).toBe(401);

    const set = await changePin(t, tenantId, token, FIRST);
    expect(set.status).toBe(200);
    expect(set.body.factors).toEqual(['PATTERN', 'PIN']);
    expect((await me()).body).toMatchObject({ enrolled: true, factors: ['PATTERN', 'PIN'] });
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);

    // Re-proving: right, then wrong (refused, and counted like a sign-in).
    const proof = await auxProof(t, tenantId, token, FIRST);
    expect(proof.status).toBe(200);
    expect(proof.body).toEqual({ verified: true });
    expect((await auxProof(t, tenantId, token, SECOND)).status).toBe(401);

    // Change: the old secret stops working, the new one works.
    expect((await changePin(t, tenantId, token, SECOND)).status).toBe(200);
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).finished).toBe(false);
    expect((await pinSignIn(t, tenantId, 'alice', SECOND)).authenticate?.status).toBe(200);

    // An admin's reset: gone, and the next sign-in cannot finish.
    const admin = `/api/v1/tenants/${tenantId}/users/${u.user_id}/pin-pattern`;
    expect((await t.http('GET', admin)).body.enrolled).toBe(true);
    expect((await t.http('DELETE', admin)).status).toBe(204);
    expect((await t.http('DELETE', admin)).status).toBe(404);
    expect((await pinSignIn(t, tenantId, 'alice', SECOND)).finished).toBe(false);
  });

  it('offers a PIN/pattern after a password sign-in: set it there, or skip', async () => {
    const { tenantId } = await tenant(t, { settings: SETTINGS });
    await user(t, tenantId, { email: null });
    await user(t, tenantId, { username: 'bob', email: null });
    const { config } = await registeredClient(t, tenantId, firstPartyApp());

    async function passwordSignIn(username: string) {
      const browser = new Browser();
      const auth = await startAuthorization(browser, config, REDIRECT);
      const login = findForm(auth.page.html, '/login');
      const offer = await browser.post(new URL(login.action, auth.page.url), {
        ...login.fields,
        method: 'password',
        login: username,
        password: PASSWORD,
      });
      return { browser, offer };
    }

    // Skipped: back at the app, and offered again next time.
    for (let i = 0; i < 2; i++) {
      const { browser, offer } = await passwordSignIn('bob');
      expect(offer.status).toBe(200);
      expect(offer.html).toContain('data-mode="enrol"');
      expect(offer.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");
      const skip = findForm(offer.html, '/continue');
      const next = await browser.post(new URL(skip.action, offer.url), skip.fields);
      expect((await follow(browser, next, REDIRECT)).callback).toBeDefined();
    }

    // Set there, as the page's script does: the step's fields prove who is enrolling.
    const { browser, offer } = await passwordSignIn('alice');
    const step = findForm(offer.html, '/continue');
    const at = (path: string) =>
      new URL(
        `${new URL(step.action, offer.url).pathname.replace(/\/continue$/, '')}/pin-pattern/${path}`,
        offer.url,
      );
    await opaque.ready;
    const reg = opaque.client.startRegistration({ password: FIRST });
    // Without the sealed state, or with another interaction's, nothing is answered.
    const forged = await browser.post(at('enrol/start'), {
      csrf: step.fields.csrf,
      pending: 'x',
      registration_request: reg.registrationRequest,
    });
    expect(forged.status).toBe(400);
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
    expect((await follow(browser, next, REDIRECT)).callback).toBeDefined();
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);
    // Enrolled: the next password sign-in goes straight back to the app.
    const again = await passwordSignIn('alice');
    expect((await follow(again.browser, again.offer, REDIRECT)).callback).toBeDefined();
  });
});
