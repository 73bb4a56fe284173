import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium-support.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { MailCatcher } from './mail-support.js';

const SHOTS = join(process.cwd(), 'docs', 'screenshots');

/**
 * The stipulation pages in Chromium: an unverified user of a tenant that asks for a verified
 * address and the current terms goes through both pages, then back to the app with a code.
 * Screenshots: docs/screenshots/stipulation-verify-email.png and stipulation-terms.png.
 */
describe('browser: stipulation pages', () => {
  let t: TestApp;
  let browser: Browser;
  let REDIRECT = '';
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ publicHost: 'localhost', env: { SMTP_URL: await smtp.start() } });
    REDIRECT = `${t.baseUrl}/test-rp/callback`;
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp.stop();
  });

  it('verifies the address, accepts the terms, and finishes the authorisation', async () => {
    const { tenantId } = await fixtures.tenant(t, {
      prefix: 'st',
      settings: {
        display_name: 'Acme Corp',
        primary_color: '#0b6e4f',
        stipulations: { verified_email: true, accepted_terms: true },
        terms_version: '2026-12',
        terms_url: 'https://acme.example/terms',
      },
    });
    const email = fixtures.uniqueEmail(tenantId);
    const alice = await fixtures.user(t, tenantId, { email });
    const { config } = await fixtures.registeredClient(t, tenantId, {
      name: 'Acme Notes',
      client_type: 'confidential',
      redirect_uris: [REDIRECT],
      allowed_scopes: ['openid', 'profile'],
      first_party: true,
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByLabel('Username or email').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await page.getByRole('heading', { name: 'Verify your email address' }).waitFor();
    await page.getByRole('button', { name: 'Send the mail again' }).click();
    await page.getByText('We sent the mail again.').waitFor();
    await page.screenshot({ path: join(SHOTS, 'stipulation-verify-email.png'), fullPage: true });
    const token = await waitUntil('the verification mail', () => {
      const m = smtp.to(email).find((x) => x.text.includes('verify-email?token='));
      return m && /verify-email\?token=([A-Za-z0-9_-]+)/.exec(m.text)?.[1];
    });
    // The link opened elsewhere (another tab, another device): the public API does what it does.
    const v = await t.http('POST', `/api/v1/tenants/${tenantId}/email/verify`, {
      key: null,
      body: { token },
    });
    expect(v.status).toBe(200);
    await page.getByRole('button', { name: /I have verified my address/ }).click();

    await page.getByRole('heading', { name: 'Accept the terms' }).waitFor();
    // Arriving from the verify page is no mistake: no message.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('link', { name: /Read the terms/ }).getAttribute('href')).toBe(
      'https://acme.example/terms',
    );
    await page.screenshot({ path: join(SHOTS, 'stipulation-terms.png'), fullPage: true });
    await page.getByLabel('I have read and accept the terms').check();
    await page.getByRole('button', { name: 'Accept and continue' }).click();

    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15_000 });
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.claims()!.sub).toBe(alice.user_id);
    await context.close();
  }, 60_000);
});
