import { launchChromium } from './chromium-support.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';

/**
 * PIN and pattern in a real browser (Chromium, headless): a user signs up on the hosted login
 * page with a PIN on the shuffled image keypad and a pattern drawn with the mouse, comes back
 * to the app with a code; then signs in again in a fresh profile with the keyboard only (the
 * grid's alternative). Screenshots of the keypad and the grid go to docs/screenshots.
 */
const SHOTS = join(process.cwd(), 'docs', 'screenshots');
const SCENARIO_MS = 90_000;

/** The keypad's digits in the order shown. */
const keypadOrder = (page: Page) =>
  page.locator('[data-digit]').evaluateAll((els) => els.map((e) => e.getAttribute('data-digit')));

async function center(page: Page, point: number) {
  const box = (await page.locator(`[data-point="${point}"]`).boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

describe('browser: PIN keypad and pattern grid', () => {
  let t: TestApp;
  let REDIRECT = '';
  let browser: Browser;

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

  async function flow(config: client.Configuration) {
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
    });
    return { url, verifier, state, nonce };
  }

  async function backAtApp(
    page: Page,
    config: client.Configuration,
    f: Awaited<ReturnType<typeof flow>>,
  ) {
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 30_000 });
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: f.verifier,
      expectedState: f.state,
      expectedNonce: f.nonce,
    });
    return tokens.claims()!;
  }

  it(
    'signs up with a PIN and a drawn pattern, then signs in with the keyboard',
    async () => {
      const { tenantId } = await fixtures.tenant(t, {
        prefix: 'pp',
        settings: {
          display_name: 'Acme Corp',
          primary_color: '#0b6e4f',
          register_enable: true,
          use_pin: true,
          pin_size: 6,
          use_pattern: true,
          patter_size: 3,
          login_order: ['PIN', 'PATTERN'],
          passkey_enabled: false,
        },
      });
      const { config } = await fixtures.registeredClient(
        t,
        tenantId,
        fixtures.firstPartyApp(REDIRECT),
      );
      const PIN = '250814';
      const PATTERN = [0, 4, 8, 5, 2];

      // Sign-up, mouse.
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      const problems: string[] = [];
      // Script errors and CSP refusals (the app's redirect URI answering 404 is expected).
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().includes('404')) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      const f1 = await flow(config);
      const response = await page.goto(f1.url.href);
      expect(response).toBeTruthy();
      await page.locator('[data-pin-pattern-section]').waitFor({ state: 'visible' });
      const firstOrder = await keypadOrder(page);
      await page.getByRole('button', { name: 'New here? Create an account with a PIN' }).click();
      await page.locator('#pp-login').fill('carol');
      await page.locator('#pp-email').fill(`carol-${tenantId}@example.test`);
      for (const d of PIN.slice(0, 4)) await page.locator(`[data-digit="${d}"]`).click();
      await page.locator('fieldset[data-pin]').screenshot({ path: join(SHOTS, 'pin-keypad.png') });
      for (const d of PIN.slice(4)) await page.locator(`[data-digit="${d}"]`).click();
      await expect(page.locator('[data-pin-display]').textContent()).resolves.toBe('••••••');

      const start = await center(page, PATTERN[0]);
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      for (const p of PATTERN.slice(1)) {
        const c = await center(page, p);
        await page.mouse.move(c.x, c.y, { steps: 6 });
      }
      await page.mouse.up();
      await expect(page.locator('[data-pattern-status]').textContent()).resolves.toBe('5 points');
      await page
        .locator('fieldset[data-pattern]')
        .screenshot({ path: join(SHOTS, 'pattern-grid.png') });
      await page.getByRole('button', { name: 'Create account' }).click();
      const claims = await backAtApp(page, config, f1);
      expect(claims.amr).toEqual(['pin', 'pattern']);
      const users = await t.http('GET', `/api/v1/tenants/${tenantId}/users?username=carol`);
      expect(claims.sub).toBe(users.body.data[0].user_id);
      expect(problems).toEqual([]);
      await context.close();

      // Sign-in in a fresh profile, keyboard only: Tab to each key or point, Enter or Space.
      const context2 = await browser.newContext({ locale: 'en-GB' });
      const page2 = await context2.newPage();
      const f2 = await flow(config);
      await page2.goto(f2.url.href);
      await page2.locator('[data-pin-pattern-section]').waitFor({ state: 'visible' });
      // A new page, a new layout.
      expect(await keypadOrder(page2)).not.toEqual(firstOrder);
      await page2.locator('#pp-login').fill('carol');
      for (const d of PIN) {
        await page2.locator(`[data-digit="${d}"]`).focus();
        await page2.keyboard.press('Enter');
      }
      for (const p of PATTERN) {
        await page2.locator(`[data-point="${p}"]`).focus();
        await page2.keyboard.press('Space');
      }
      await expect(page2.locator('[data-pattern-status]').textContent()).resolves.toBe('5 points');
      await page2.locator('[data-pp-submit]').focus();
      await page2.keyboard.press('Enter');
      const again = await backAtApp(page2, config, f2);
      expect(again.sub).toBe(claims.sub);
      expect(again.amr).toEqual(['pin', 'pattern']);
      await context2.close();
    },
    SCENARIO_MS,
  );

  it(
    'offers a PIN/pattern after a password sign-in and sets it in the page',
    async () => {
      const { tenantId } = await fixtures.tenant(t, {
        prefix: 'pp',
        settings: { use_pin: true, pin_size: 4, use_pattern: false, passkey_enabled: false },
      });
      await fixtures.user(t, tenantId, { email: null });
      const { config } = await fixtures.registeredClient(
        t,
        tenantId,
        fixtures.firstPartyApp(REDIRECT),
      );
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      const f1 = await flow(config);
      await page.goto(f1.url.href);
      await page.locator('#login').fill('alice');
      await page.locator('#password').fill(fixtures.PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Set up a PIN' }).waitFor();
      for (const d of '9031') await page.locator(`[data-digit="${d}"]`).click();
      await page.getByRole('button', { name: 'Save and continue' }).click();
      const claims = await backAtApp(page, config, f1);
      expect(claims.amr).toEqual(['pwd']);
      await context.close();

      const context2 = await browser.newContext({ locale: 'en-GB' });
      const page2 = await context2.newPage();
      const f2 = await flow(config);
      await page2.goto(f2.url.href);
      await page2.locator('#pp-login').fill('alice');
      for (const d of '9031') await page2.locator(`[data-digit="${d}"]`).click();
      await page2.getByRole('button', { name: 'Sign in with PIN' }).click();
      expect((await backAtApp(page2, config, f2)).amr).toEqual(['pin']);
      await context2.close();
    },
    SCENARIO_MS,
  );
});
