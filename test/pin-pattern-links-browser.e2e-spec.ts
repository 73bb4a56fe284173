import { launchChromium } from './chromium-support.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import * as fixtures from './fixtures.js';
import { MailCatcher } from './mail-support.js';
import { pinSignIn } from './pin-pattern-support.js';
import { userToken } from './user-token-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

/**
 * The pages of the PIN/pattern links and proof in a real browser (Chromium, headless): a user
 * opens an admin's enrolment link and sets a PIN and pattern on its page, then changes their
 * email on the account page after proving them. Screenshots go to docs/screenshots.
 */
const SHOTS = join(process.cwd(), 'docs', 'screenshots');
const SCENARIO_MS = 90_000;
const SETTINGS = {
  display_name: 'Acme Corp',
  primary_color: '#0b6e4f',
  use_pin: true,
  pin_size: 4,
  use_pattern: true,
  patter_size: 3,
  login_order: ['PIN', 'PATTERN'],
  passkey_enabled: false,
};
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS, pattern_size: 3 } as never)!;
const PIN = '4096';
const PATTERN = [2, 4, 6, 7];

async function enter(page: Page) {
  for (const d of PIN) await page.locator(`[data-digit="${d}"]`).click();
  for (const p of PATTERN) {
    await page.locator(`[data-point="${p}"]`).focus();
    await page.keyboard.press('Enter');
  }
}

describe('browser: PIN/pattern links and proof', () => {
  let t: TestApp;
  let browser: Browser;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ publicHost: 'localhost', env: { SMTP_URL: await smtp.start() } });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp.stop();
  });

  it(
    'sets a PIN and pattern through an enrolment link, then proves them to change the email',
    async () => {
      const { tenantId } = await fixtures.tenant(t, { prefix: 'ppl' });
      const email = fixtures.uniqueEmail(tenantId);
      const u = await fixtures.user(t, tenantId, { email });
      // Signed in once before the tenant uses PIN/pattern (no offer on the way).
      await userToken(t, tenantId, 'alice', fixtures.PASSWORD);
      await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: SETTINGS });

      const link = await t.http(
        'POST',
        `/api/v1/tenants/${tenantId}/users/${u.user_id}/pin-pattern-links`,
        { body: {} },
      );
      expect(link.status).toBe(201);
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));

      await page.goto(link.body.url);
      await page.locator('[data-pin-pattern-section]').waitFor({ state: 'visible' });
      await enter(page);
      await expect(page.locator('[data-pattern-status]').textContent()).resolves.toBe('4 points');
      await page.screenshot({ path: join(SHOTS, 'pin-pattern-link.png'), fullPage: true });
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'PIN and pattern saved' }).waitFor();
      const secret = secretOf(policy, { pin: PIN, pattern: PATTERN });
      expect((await pinSignIn(t, tenantId, 'alice', secret)).authenticate?.status).toBe(200);

      // The account page: the email change asks for the PIN and pattern first.
      await page.goto(`${t.baseUrl}/${tenantId}/account`);
      await page.locator('#login').fill('alice');
      await page.locator('#password').fill(fixtures.PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Email address' }).waitFor();
      await page.locator('[data-pin-pattern-section]').waitFor({ state: 'visible' });
      const next = fixtures.uniqueEmail(tenantId, 'alice-next');
      await page.locator('#new_email').fill(next);
      await enter(page);
      await page
        .locator('section[aria-labelledby="email-h"]')
        .screenshot({ path: join(SHOTS, 'account-email-proof.png') });
      await page.getByRole('button', { name: 'Confirm and change email' }).click();
      await page.getByText(`We sent a link to ${next}`).waitFor();
      await waitUntil('the confirmation mail', () => smtp.to(next).length > 0);
      expect(problems).toEqual([]);
      await context.close();
    },
    SCENARIO_MS,
  );
});
