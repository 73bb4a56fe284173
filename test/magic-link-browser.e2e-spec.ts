import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium-support.js';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';
import { MailCatcher } from './mail-support.js';

const SHOTS = join(process.cwd(), 'docs', 'screenshots');

/**
 * A sign-in link in real browsers: the link asked for in one browser profile is opened in
 * another, which shows the code; typed in the first, it finishes the authorisation.
 * Screenshots: docs/screenshots/magic-link-sent.png and magic-link-code.png.
 */
describe('browser: sign-in link opened on another device', () => {
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

  it('signs in the first browser with the code the second one shows', async () => {
    const { tenantId } = await fixtures.tenant(t, {
      prefix: 'ml',
      settings: { display_name: 'Acme Corp', primary_color: '#0b6e4f', magic_link_enabled: true },
    });
    const email = fixtures.uniqueEmail(tenantId);
    const alice = await fixtures.user(t, tenantId, { email });
    const { config } = await fixtures.registeredClient(t, tenantId, {
      name: 'Acme Notes',
      client_type: 'confidential',
      redirect_uris: [REDIRECT],
      allowed_scopes: ['openid', 'profile', 'email'],
      first_party: true,
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    const first = await browser.newContext({ locale: 'en-GB' });
    const a = await first.newPage();
    await a.goto(url.href);
    await a.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await a.getByLabel('Email address').fill(email);
    await a.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await a.getByText('Check your email').first().waitFor();
    await a.screenshot({ path: join(SHOTS, 'magic-link-sent.png'), fullPage: true });

    const link = await waitUntil('the sign-in link', () => {
      const m = smtp.to(email).find((x) => /your sign-in link/.test(x.subject));
      return m && /(https?:\/\/\S+magic-link\/open\?token=[A-Za-z0-9_-]+)/.exec(m.text)?.[1];
    });
    const second = await browser.newContext({ locale: 'en-GB' });
    const b = await second.newPage();
    await b.goto(link);
    const shown = (await b.getByLabel('Sign-in code').textContent())!.replace(/\s/g, '');
    expect(shown).toMatch(/^\d{6}$/);
    await b.screenshot({ path: join(SHOTS, 'magic-link-code.png'), fullPage: true });

    await a.getByLabel('Code shown by the link').fill(shown);
    const back = a.waitForURL((u) => u.href.startsWith(REDIRECT));
    await a.getByRole('button', { name: 'Sign in' }).click();
    await back;
    const tokens = await client.authorizationCodeGrant(config, new URL(a.url()), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.claims()!.sub).toBe(alice.user_id);
    await first.close();
    await second.close();
  }, 60_000);
});
