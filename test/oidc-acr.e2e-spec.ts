import * as client from 'openid-client';
import {
  enrolTotp,
  follow,
  passwordStep,
  selfToken,
  submit,
  tokensOf,
  totpCode,
  type Started,
} from './account-support.js';
import { app, REDIRECT } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { Browser } from './oidc-support.js';

/** An authorization request with extra parameters, up to the first page or the app. */
async function authorize(
  browser: Browser,
  config: client.Configuration,
  extra: Record<string, string> = {},
): Promise<Started> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { page: await follow(browser, await browser.get(url)), verifier, state, nonce };
}

/**
 * Authentication context in tokens (issue #20): `amr` (RFC 8176), an ordered `acr` ladder and
 * `auth_time` in ID tokens and introspection, the `claims` parameter and `acr_values` step-up.
 */
describe('OIDC authentication context (amr, acr, step-up)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('discovery lists acr levels, amr and the claims parameter', async () => {
    const x = await app(t);
    const doc = (await t.http('GET', `/${x.tenantId}/.well-known/openid-configuration`)).body;
    expect(doc.claims_parameter_supported).toBe(true);
    expect(doc.acr_values_supported).toEqual(['single-factor', 'mfa', 'phishing-resistant']);
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr', 'auth_time']));
  });

  it('a password sign-in is single-factor; acr_values=mfa steps up to password + TOTP', async () => {
    const x = await app(t, { client: firstPartyWebApp() });
    const { secret } = await enrolTotp(t, x.tenantId, await selfToken(t, x.tenantId));
    const browser = new Browser();

    // First sign-in: password, then the TOTP the user has. Both factors: mfa.
    const s1 = await authorize(browser, x.config);
    const step = await passwordStep(browser, s1, 'alice');
    expect(step.html).toContain('Two-step verification');
    const t1 = await tokensOf(
      browser,
      x.config,
      s1,
      await submit(browser, step, '/second-factor', { code: await totpCode(secret, 1) }),
    );
    expect(t1.claims()).toMatchObject({
      acr: 'mfa',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: expect.any(Number),
    });
    const intro = await client.tokenIntrospection(x.config, t1.access_token);
    expect(intro).toMatchObject({
      active: true,
      acr: 'mfa',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: t1.claims()!.auth_time,
    });

    // The session meets mfa: asking for it again (acr_values or an essential claims request)
    // signs in silently, with no page.
    const requests: Array<Record<string, string>> = [
      { acr_values: 'mfa' },
      { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['mfa'] } } }) },
      { acr_values: 'single-factor' },
    ];
    for (const extra of requests) {
      const s = await authorize(browser, x.config, extra);
      expect([extra, s.page.status]).toEqual([extra, 303]);
      expect((await tokensOf(browser, x.config, s, s.page)).claims()!.acr).toBe('mfa');
    }

    // A phishing-resistant request is above the session: the sign-in page comes back.
    const up = await authorize(browser, x.config, { acr_values: 'phishing-resistant' });
    expect(up.page.status).toBe(200);
    expect(up.page.html).toContain('name="password"');
  });

  it('a single-factor session is asked to sign in again for mfa, and the TOTP step comes', async () => {
    const x = await app(t, { client: firstPartyWebApp() });
    const browser = new Browser();
    const s1 = await authorize(browser, x.config);
    const t1 = await tokensOf(browser, x.config, s1, await passwordStep(browser, s1, 'alice'));
    expect(t1.claims()).toMatchObject({ acr: 'single-factor', amr: ['pwd'] });

    // TOTP is added later; a client asking for mfa gets the sign-in and the second factor.
    const { secret } = await enrolTotp(t, x.tenantId, await selfToken(t, x.tenantId));
    const silent = await authorize(browser, x.config);
    expect(silent.page.status).toBe(303);
    const s2 = await authorize(browser, x.config, { acr_values: 'mfa phishing-resistant' });
    expect(s2.page.status).toBe(200);
    const step = await passwordStep(browser, s2, 'alice');
    expect(step.html).toContain('Two-step verification');
    const t2 = await tokensOf(
      browser,
      x.config,
      s2,
      await submit(browser, step, '/second-factor', { code: await totpCode(secret, 1) }),
    );
    expect(t2.claims()).toMatchObject({ acr: 'mfa', amr: ['pwd', 'otp', 'mfa'] });
  });
});

/** No consent page: every sign-in here ends at the app or at a sign-in step. */
function firstPartyWebApp() {
  return {
    client_type: 'confidential',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
    first_party: true,
  };
}
