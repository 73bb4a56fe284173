import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium-support.js';
import { startTestApp, type TestApp } from './harness.js';
import { createUser } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';

/**
 * A second device through a device link, in Chromium: two browser profiles, each with its own
 * CDP virtual authenticator. Device A signs in with a password, makes a link on the account
 * page; device B opens it and registers a passkey; then device B signs in with that passkey
 * through a full OIDC authorization code flow.
 */
const SHOTS = join(process.cwd(), 'docs', 'screenshots');

async function withAuthenticator(browser: Browser) {
  const context: BrowserContext = await browser.newContext({ locale: 'en-GB' });
  const page: Page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const credentials = async () =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return { context, page, credentials };
}

describe('browser: adding a device through a device link', () => {
  let t: TestApp;
  let browser: Browser;
  let REDIRECT = '';

  beforeAll(async () => {
    t = await startTestApp({ publicHost: 'localhost' });
    REDIRECT = `${t.baseUrl}/test-rp/callback`;
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('device A makes a link, device B registers a passkey with it and signs in with it', async () => {
    const { tenantId } = await fixtures.tenant(t, {
      prefix: 'dl',
      settings: { display_name: 'Acme Corp', primary_color: '#0b6e4f' },
    });
    const { config } = await fixtures.registeredClient(t, tenantId, {
      name: 'Acme Notes',
      client_type: 'confidential',
      redirect_uris: [REDIRECT],
      allowed_scopes: ['openid', 'profile'],
      first_party: true,
    });
    const alice = await createUser(t, tenantId, {
      username: 'alice',
      email: 'alice.liddell@example.test',
      display_name: 'Alice Liddell',
      password: PASSWORD,
    });

    // Device A: signs in with the password on the account page and makes a link.
    const a = await withAuthenticator(browser);
    await a.page.goto(`${t.baseUrl}/${tenantId}/account`);
    await a.page.getByLabel('Username or email').fill('alice');
    await a.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await a.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await a.page.getByRole('heading', { name: 'Your account' }).waitFor();
    await a.page.getByRole('button', { name: 'Make a device link' }).click();
    await a.page.getByRole('img', { name: 'QR code of the device link' }).waitFor();
    await a.page
      .locator('[data-device-link]')
      .screenshot({ path: join(SHOTS, 'account-device-link.png') });
    const url = await a.page.locator('[data-device-link-url]').inputValue();
    expect(url).toMatch(new RegExp(`^${t.baseUrl}/${tenantId}/device-link/[A-Za-z0-9_-]{43}$`));

    // Device B: opens the link, sees whom it is for, adds a passkey.
    const b = await withAuthenticator(browser);
    await b.page.goto(url);
    await b.page.getByRole('heading', { name: 'Add this device' }).waitFor();
    await b.page.getByText('Alice Liddell').waitFor();
    expect(await b.page.content()).toContain('a***l@example.test');
    await b.page.getByRole('button', { name: 'Add a passkey on this device' }).waitFor();
    await b.page.screenshot({ path: join(SHOTS, 'device-link.png'), fullPage: true });
    await b.page.getByRole('button', { name: 'Add a passkey on this device' }).click();
    await b.page.getByRole('heading', { name: 'Passkey added' }).waitFor();
    expect(await b.credentials()).toHaveLength(1);
    expect(await a.credentials()).toHaveLength(0);

    // The link is spent: opening it again says so.
    await b.page.goto(url);
    await b.page.getByRole('heading', { name: 'This link does not work' }).waitFor();

    // Device B signs in with its passkey through the app's authorization code flow.
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    await b.page.goto(authUrl.href);
    const button = b.page.getByRole('button', { name: 'Sign in with a passkey' });
    // Chromium's conditional UI may answer by itself; otherwise the button does.
    await Promise.race([
      b.page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15_000 }),
      button.click({ timeout: 15_000 }),
    ]);
    await b.page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15_000 });
    const tokens = await client.authorizationCodeGrant(config, new URL(b.page.url()), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()!.sub).toBe(alice.user_id);
    expect(tokens.claims()!.amr).toContain('hwk');
    expect((await b.credentials())[0].signCount).toBeGreaterThanOrEqual(1);
    await a.context.close();
    await b.context.close();
  }, 90_000);
});
