import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium-support.js';
import { startTestApp, type TestApp } from './harness.js';
import { createClient } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { createUpstream } from './upstream-support.js';

const SHOTS = join(process.cwd(), 'docs', 'screenshots');

/**
 * Upstream sign-in in Chromium (issue 21): on tenant B's sign-in page the user clicks
 * "Sign in with Tenant A", signs in on tenant A's pages, and lands back at B's app with a code
 * that B's token endpoint redeems for the account B made just in time.
 * Screenshot: docs/screenshots/upstream-sign-in.png (B's sign-in page with the provider buttons).
 */
describe('browser: sign in with an upstream identity provider', () => {
  let t: TestApp;
  let browser: Browser;
  let REDIRECT = '';

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    REDIRECT = `${t.baseUrl}/test-rp/callback`;
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('clicks "Sign in with Tenant A" on B, signs in on A, lands at B\'s app with a code', async () => {
    const { tenantId: A } = await fixtures.tenant(t, {
      prefix: 'upa',
      settings: { display_name: 'Tenant A', primary_color: '#1a5fb4' },
    });
    const { tenantId: B } = await fixtures.tenant(t, {
      prefix: 'upb',
      settings: { display_name: 'Acme Corp', primary_color: '#0b6e4f' },
    });
    const rp = await createClient(t, A, {
      name: 'Acme Corp sign-in',
      client_type: 'confidential',
      redirect_uris: [`${t.baseUrl}/${B}/upstream/tenant-a/callback`],
      allowed_scopes: ['openid', 'profile', 'email'],
      first_party: true,
    });
    await fixtures.user(t, A, {
      username: 'rosa',
      email: `rosa-${A}@example.test`,
      is_verified: true,
      display_name: 'Rosa Parks',
    });
    await createUpstream(t, B, {
      provider_id: 'tenant-a',
      label: 'Tenant A',
      issuer: `${t.baseUrl}/${A}`,
      client_id: rp.client_id,
      client_secret: rp.client_secret,
      scopes: ['openid', 'profile', 'email'],
      jit_create: true,
      display_order: 1,
    });
    // A second button, so the page shows the list as tenants have it.
    await createUpstream(t, B, {
      provider_id: 'contoso',
      label: 'Contoso SSO',
      issuer: `${t.baseUrl}/${A}`,
      client_id: rp.client_id,
      client_secret: rp.client_secret,
      scopes: ['openid'],
      display_order: 2,
    });
    const app = await fixtures.registeredClient(t, B, {
      name: 'Acme Notes',
      client_type: 'confidential',
      redirect_uris: [REDIRECT],
      allowed_scopes: ['openid', 'profile', 'email'],
      first_party: true,
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(app.config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(url.href);
    const button = page.getByRole('link', { name: 'Sign in with Tenant A' });
    await button.waitFor();
    await page.getByRole('link', { name: 'Sign in with Contoso SSO' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'upstream-sign-in.png'), fullPage: true });

    await button.click();
    // Tenant A's own sign-in page.
    await page.getByText('Tenant A', { exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe(
      `/${A}/interaction/${new URL(page.url()).pathname.split('/')[3]}`,
    );
    await page.getByLabel('Username or email').fill('rosa');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    const landed = page.waitForURL((u) => u.href.startsWith(REDIRECT));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await landed;

    const callback = new URL(page.url());
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await client.authorizationCodeGrant(app.config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(`${t.baseUrl}/${B}`);
    expect(claims.amr).toEqual(['fed']);
    const user = await t.http('GET', `/api/v1/tenants/${B}/users/${claims.sub}`);
    expect(user.body).toMatchObject({ username: 'rosa', email: `rosa-${A}@example.test` });
    await context.close();
  }, 60_000);
});
