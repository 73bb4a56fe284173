import * as client from 'openid-client';
import { startTestApp, type TestApp } from './harness.js';
import { firstPartyApp, registeredClient, REDIRECT, tenant, uniqueEmail } from './fixtures.js';
import { Browser } from './oidc-support.js';
import { follow, pinSignIn, registerWithPin, startAuthorization } from './pin-pattern-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

/**
 * PIN and pattern sign-in with OPAQUE, through HTTP only, with @serenity-kit/opaque playing
 * the page: sign-up, sign-in finishing an OIDC code flow (openid-client), the blocker, the
 * fake-record path for unknown users, and the nonce's bindings.
 */
const SETTINGS = {
  register_enable: true,
  use_pin: true,
  pin_size: 6,
  use_pattern: true,
  patter_size: 3,
  login_order: ['PIN', 'PATTERN'],
  block_config: { user: { max_attempts: 3, window_seconds: 300, block_seconds: 900 } },
};
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS, pattern_size: 3 } as never)!;
const RIGHT = secretOf(policy, { pin: '482916', pattern: [0, 4, 8, 5, 2] });
const WRONG_PIN = secretOf(policy, { pin: '482917', pattern: [0, 4, 8, 5, 2] });
const WRONG_PATTERN = secretOf(policy, { pin: '482916', pattern: [0, 4, 8, 5, 1] });

describe('PIN and pattern sign-in (OPAQUE)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** A tenant with PIN+pattern, one registered user (alice) and a first-party client. */
  async function setup(settings: Record<string, unknown> = {}) {
    const tf = await tenant(t, { settings: { ...SETTINGS, ...settings } });
    const reg = await registerWithPin(
      t,
      tf.tenantId,
      { username: 'alice', email: uniqueEmail(tf.tenantId) },
      RIGHT,
    );
    expect(reg.status).toBe(201);
    const { config } = await registeredClient(t, tf.tenantId, firstPartyApp());
    return { ...tf, userId: reg.body.user_id as string, config };
  }

  it('signs up and signs in through the OIDC code flow; the amr names PIN and pattern', async () => {
    const { tenantId, config, userId } = await setup();
    const browser = new Browser();
    const auth = await startAuthorization(browser, config, REDIRECT);
    // The login page offers the keypad and the grid, and allows WebAssembly only there.
    expect(auth.page.html).toContain('data-pin-pattern');
    expect(auth.page.html).toContain('data-digit="7"');
    expect(auth.page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");

    const s = await pinSignIn(t, tenantId, 'alice', RIGHT, auth.uid);
    expect(s.authenticate?.status).toBe(200);
    expect(s.authenticate?.body.need_verify).toBe(false);
    const nonce = s.authenticate!.body.nonce as string;

    // Sign In hands the browser to the interaction, which spends the nonce.
    const signIn = await browser.get(
      `${t.baseUrl}/${tenantId}/authn/zkp/sign-in?oid_nonce=${encodeURIComponent(nonce)}&auth_req_id=${auth.uid}`,
    );
    expect(signIn.status).toBe(303);
    const spend = await browser.get(signIn.location!);
    expect(spend.status).toBe(303);
    // Replayed on the same, still pending interaction: refused like a wrong PIN.
    const replay = await browser.get(signIn.location!);
    expect(replay.status).toBe(401);
    expect(replay.html).toContain('The username, PIN or pattern is incorrect.');

    const { callback } = await follow(browser, spend, REDIRECT);
    expect(callback).toBeDefined();
    const tokens = await client.authorizationCodeGrant(config, callback!, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(userId);
    expect(claims.amr).toEqual(['pin', 'pattern']);
  });

  it('refuses a nonce for another authorisation, of another tenant, or with none', async () => {
    const a = await setup();
    const b = await setup();
    const browser = new Browser();
    const auth = await startAuthorization(browser, a.config, REDIRECT);
    const signInUrl = (tenantId: string, nonce: string, uid: string) =>
      `${t.baseUrl}/${tenantId}/authn/zkp/sign-in?oid_nonce=${encodeURIComponent(nonce)}&auth_req_id=${uid}`;
    const attempt = async (tenantId: string, nonce: string, uid: string) =>
      (await follow(browser, await browser.get(signInUrl(tenantId, nonce, uid)), REDIRECT))
        .callback;

    // Bound to another auth_req_id: refused (and spent).
    const other = await startAuthorization(browser, a.config, REDIRECT);
    const n1 = (await pinSignIn(t, a.tenantId, 'alice', RIGHT, other.uid)).authenticate!.body
      .nonce as string;
    const wrongUid = await attempt(a.tenantId, n1, auth.uid);
    expect(wrongUid).toBeUndefined();
    const lastPage = await browser.get(signInUrl(a.tenantId, n1, auth.uid));
    const shown = await follow(browser, lastPage, REDIRECT);
    expect(shown.last.status).toBe(401);
    expect(shown.last.html).toContain('The username, PIN or pattern is incorrect.');

    // Of tenant B, presented at tenant A (same user name, other realm): refused.
    const bBrowser = new Browser();
    const bAuth = await startAuthorization(bBrowser, b.config, REDIRECT);
    const nB = (await pinSignIn(t, b.tenantId, 'alice', RIGHT, bAuth.uid)).authenticate!.body
      .nonce as string;
    expect(await attempt(a.tenantId, nB, auth.uid)).toBeUndefined();

    // Without an auth_req_id at authenticate: usable for no authorisation.
    const n0 = (await pinSignIn(t, a.tenantId, 'alice', RIGHT)).authenticate!.body.nonce as string;
    expect(await attempt(a.tenantId, n0, auth.uid)).toBeUndefined();

    // The right one for this authorisation works.
    const n2 = (await pinSignIn(t, a.tenantId, 'alice', RIGHT, auth.uid)).authenticate!.body
      .nonce as string;
    expect(await attempt(a.tenantId, n2, auth.uid)).toBeDefined();
  });

  it('asks for the second factor after a PIN under is_2fa, and refuses a disabled account', async () => {
    const { tenantId, config, userId } = await setup({ is_2fa: true });
    const browser = new Browser();
    const auth = await startAuthorization(browser, config, REDIRECT);
    const s = await pinSignIn(t, tenantId, 'alice', RIGHT, auth.uid);
    expect(s.authenticate?.body.need_verify).toBe(true);
    const signIn = await browser.get(
      `${t.baseUrl}/${tenantId}/authn/zkp/sign-in?oid_nonce=${encodeURIComponent(s.authenticate!.body.nonce)}&auth_req_id=${auth.uid}`,
    );
    const step = await browser.get(signIn.location!);
    // Not back at the app: the TOTP enrolment the tenant requires comes first.
    expect(step.status).toBe(200);
    expect(step.html).toContain('/enrol');

    expect(
      (await t.http('POST', `/api/v1/tenants/${tenantId}/users/${userId}/disable`)).status,
    ).toBe(200);
    const refused = await pinSignIn(t, tenantId, 'alice', RIGHT);
    expect(refused.authenticate?.status).toBe(403);
    expect(refused.authenticate?.body.type).toBe('urn:idp:problem:account-disabled');
  });

  it('answers an unknown username like a known one, and never lets it finish', async () => {
    const { tenantId } = await setup();
    const known = await pinSignIn(t, tenantId, 'alice', WRONG_PIN);
    const unknown = await pinSignIn(t, tenantId, 'nobody-here', RIGHT);
    for (const r of [known, unknown]) {
      expect(r.challenge.status).toBe(200);
      expect(Object.keys(r.challenge.body).toSorted()).toEqual([
        'challenge_data',
        'challenge_id',
        'proto_version',
      ]);
      expect(r.finished).toBe(false);
    }
    expect(unknown.challenge.body.challenge_data.length).toBe(
      known.challenge.body.challenge_data.length,
    );
    // The answer for an unknown name is stable (a derived fake record), like a real one's shape.
    expect(unknown.challenge.body.challenge_data).not.toBe(known.challenge.body.challenge_data);
    // A forged finalisation is refused the same way for both.
    for (const username of ['alice', 'nobody-here']) {
      const c = await t.http('POST', `/${tenantId}/authn/zkp/challenge`, {
        key: null,
        body: { username, cipherKey: known.challenge.body.challenge_data.slice(0, 64) },
      });
      expect(c.status).toBe(400);
    }
  });

  it('counts wrong PINs and patterns per user, blocks, then refuses the right PIN too', async () => {
    const { tenantId } = await setup();
    // Both a wrong PIN and a wrong pattern fail: the secret is one.
    expect((await pinSignIn(t, tenantId, 'alice', WRONG_PIN)).finished).toBe(false);
    // The right one still works below the limit, and forgives the user's failures.
    expect((await pinSignIn(t, tenantId, 'alice', RIGHT)).authenticate?.status).toBe(200);
    expect((await pinSignIn(t, tenantId, 'alice', WRONG_PATTERN)).finished).toBe(false);
    expect((await pinSignIn(t, tenantId, 'alice', RIGHT)).authenticate?.status).toBe(200);
    // A challenge counts when it is answered, so the third one (the limit) is not answered.
    for (let i = 0; i < 2; i++)
      expect((await pinSignIn(t, tenantId, 'alice', WRONG_PIN)).challenge.status).toBe(200);
    expect((await pinSignIn(t, tenantId, 'alice', WRONG_PIN)).challenge.status).toBe(429);
    const blocked = await pinSignIn(t, tenantId, 'alice', RIGHT);
    expect(blocked.challenge.status).toBe(429);
    expect(blocked.challenge.headers.get('retry-after')).toBeTruthy();
    // Under the user's email the account is blocked too: the right PIN cannot finish.
    const viaEmail = await pinSignIn(t, tenantId, uniqueEmail(tenantId), RIGHT);
    expect(viaEmail.finished).toBe(false);
  });

  it('answers at most max_attempts − 1 of a burst of concurrent challenges', async () => {
    const { tenantId } = await setup();
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => pinSignIn(t, tenantId, 'alice', WRONG_PIN)),
    );
    const answered = burst.filter((r) => r.challenge.status === 200).length;
    expect(answered).toBe(2);
    expect(burst.filter((r) => r.challenge.status === 429)).toHaveLength(6);
  });

  it('counts per IP as well', async () => {
    const { tenantId } = await setup({
      block_config: {
        ip: { max_attempts: 3, window_seconds: 300, block_seconds: 900 },
        user: { max_attempts: 50, window_seconds: 300, block_seconds: 900 },
      },
    });
    for (const name of ['x1', 'x2'])
      expect((await pinSignIn(t, tenantId, name, RIGHT)).challenge.status).toBe(200);
    expect((await pinSignIn(t, tenantId, 'alice', RIGHT)).challenge.status).toBe(429);
  });

  it('refuses a finalisation replayed, or for another challenge or user', async () => {
    const { tenantId } = await setup();
    const s = await pinSignIn(t, tenantId, 'alice', RIGHT);
    expect(s.authenticate?.status).toBe(200);
    const again = await t.http('POST', `/${tenantId}/authn/zkp/authenticate`, {
      key: null,
      body: {
        username: 'alice',
        cipherKey: 'AAAA',
        challenge_id: s.challenge.body.challenge_id,
        challenge_data: 'AAAA',
      },
    });
    expect(again.status).toBe(401);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
  });

  it('signs up only where the tenant allows it, and only with PIN/pattern enabled', async () => {
    const closed = await tenant(t, { settings: { ...SETTINGS, register_enable: false } });
    const r = await registerWithPin(
      t,
      closed.tenantId,
      { username: 'bob', email: 'bob@example.test' },
      RIGHT,
    );
    expect(r.status).toBe(403);
    const off = await tenant(t, { settings: { register_enable: true } });
    const r2 = await registerWithPin(
      t,
      off.tenantId,
      { username: 'bob', email: 'bob@example.test' },
      RIGHT,
    );
    expect(r2.status).toBe(403);
    expect(r2.body.type).toBe('urn:idp:problem:pin-pattern-disabled');
    const open = await setup();
    const dup = await registerWithPin(
      t,
      open.tenantId,
      { username: 'alice', email: 'other@example.test' },
      RIGHT,
    );
    expect(dup.status).toBe(409);
  });

  it('validates the tenant policy and takes the seed spelling patter_size', async () => {
    const bad = await t.http('POST', '/api/v1/tenants', {
      body: { tenant_id: `pp-${Date.now().toString(36)}`, pin_size: 13, patter_size: 6 },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['pin_size', 'patter_size']));
    const tf = await tenant(t, { settings: { use_pattern: true, patter_size: 5 } });
    const got = await t.http('GET', `/api/v1/tenants/${tf.tenantId}`);
    expect(got.body.pattern_size).toBe(5);
    // Pattern only: the login page shows a 5×5 grid and no keypad.
    const { config } = await registeredClient(t, tf.tenantId, firstPartyApp());
    const page = (await startAuthorization(new Browser(), config, REDIRECT)).page;
    expect(page.html).toContain('data-point="24"');
    expect(page.html).not.toContain('data-point="25"');
    expect(page.html).not.toContain('data-digit=');
  });
});
