import { launchChromium } from './chromium-support.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitUntil, startTestApp, type TestApp } from './harness.js';
import { freshStep, totpCode } from './account-support.js';
import { createUser } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { MailCatcher } from './mail-support.js';

/**
 * The Done-when scenarios of strong authentication in a real browser: Chromium, headless, with
 * a CDP virtual authenticator (a platform passkey with user verification). The app under test
 * is an openid-client Relying Party; its redirect URI is a path of the test server that answers
 * 404 (the browser only needs to get there), and the test redeems the code itself.
 */

const SHOTS = join(process.cwd(), 'docs', 'screenshots');

// Browser scenarios take a few seconds each; the TOTP ones may wait for a fresh 30 s step.
const SCENARIO_MS = 60_000;

/** A platform authenticator that holds discoverable credentials and verifies the user. */
async function virtualAuthenticator(context: BrowserContext, page: Page) {
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
  return { cdp, authenticatorId };
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('browser: passkeys, TOTP, recovery codes, password reset', () => {
  let t: TestApp;
  let REDIRECT = '';
  let browser: Browser;
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

  async function tenantWithApp(settings: Record<string, unknown> = {}) {
    const { tenantId } = await fixtures.tenant(t, {
      prefix: 'br',
      settings: { display_name: 'Acme Corp', primary_color: '#0b6e4f', ...settings },
    });
    const { config } = await fixtures.registeredClient(t, tenantId, {
      name: 'Acme Notes',
      client_type: 'confidential',
      redirect_uris: [REDIRECT],
      allowed_scopes: ['openid', 'profile', 'email'],
    });
    return { tenantId, config };
  }

  /** A fresh browser profile. */
  async function newContext(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    return { context, page };
  }

  interface Flow {
    url: URL;
    verifier: string;
    state: string;
    nonce: string;
  }

  async function authorizationUrl(config: client.Configuration): Promise<Flow> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, verifier, state, nonce };
  }

  /** Waits for the app's redirect URI and redeems the code like the app would. */
  async function backAtApp(page: Page, config: client.Configuration, flow: Flow) {
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15_000 });
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    return tokens.claims()!;
  }

  /** Consent again after a logout (ending the session revokes its grants). */
  async function allowIfAsked(page: Page) {
    const allow = page.getByRole('button', { name: 'Allow' });
    await Promise.race([
      page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15_000 }),
      allow.click({ timeout: 15_000 }),
    ]);
  }

  async function signOut(page: Page, tenantId: string) {
    await page.goto(`${t.baseUrl}/${tenantId}/logout`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByText('You are signed out').waitFor();
  }

  it(
    'signs up, adds a passkey, signs out, and signs in with the passkey without a username',
    async () => {
      const { tenantId, config } = await tenantWithApp({ register_enable: true });
      const { context, page } = await newContext();
      const { cdp, authenticatorId } = await virtualAuthenticator(context, page);

      const first = await authorizationUrl(config);
      await page.goto(first.url.href);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
      await expect(page.locator('#login').getAttribute('autocomplete')).resolves.toBe(
        'username webauthn',
      );
      await shot(page, 'login');

      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Username').fill('dora');
      await page.getByLabel('Email').fill('dora@example.test');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await shot(page, 'signup');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('button', { name: 'Add a passkey' }).waitFor();
      await shot(page, 'signup-passkey');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      // A third-party app: the consent page comes next.
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      await shot(page, 'consent');
      await page.getByRole('button', { name: 'Allow' }).click();
      const signedUp = await backAtApp(page, config, first);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0].isResidentCredential).toBe(true);

      // Sign out through the provider (RP-initiated logout).
      await page.goto(`${t.baseUrl}/${tenantId}/logout`);
      await page.getByRole('button', { name: 'Yes, sign me out' }).waitFor();
      await shot(page, 'logout');
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByText('You are signed out').waitFor();

      // Passwordless, no username typed. With the virtual authenticator Chromium's conditional UI
      // (autofill) answers by itself as soon as the page asks, so this is the autofill path.
      const second = await authorizationUrl(config);
      await page.goto(second.url.href);
      await allowIfAsked(page);
      expect((await backAtApp(page, config, second)).sub).toBe(signedUp.sub);

      // The button path: a browser without conditional UI.
      await signOut(page, tenantId);
      await page.addInitScript(() => {
        const pkc = (globalThis as unknown as { PublicKeyCredential: Record<string, unknown> })
          .PublicKeyCredential;
        pkc.isConditionalMediationAvailable = async () => false;
      });
      const third = await authorizationUrl(config);
      await page.goto(third.url.href);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await allowIfAsked(page);
      expect((await backAtApp(page, config, third)).sub).toBe(signedUp.sub);
      // With a username typed first: the ceremony is narrowed to that user's passkeys.
      await signOut(page, tenantId);
      const fourth = await authorizationUrl(config);
      await page.goto(fourth.url.href);
      await page.getByLabel('Username or email').fill('DORA');
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await allowIfAsked(page);
      expect((await backAtApp(page, config, fourth)).sub).toBe(signedUp.sub);
      const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(after.credentials[0].signCount).toBeGreaterThanOrEqual(3);
      await context.close();
    },
    SCENARIO_MS,
  );

  it(
    'enrols TOTP on the account page and signs in with password + code, then with recovery codes',
    async () => {
      const { tenantId, config } = await tenantWithApp();
      await createUser(t, tenantId, {
        username: 'carol',
        email: 'carol@example.test',
        password: PASSWORD,
      });
      const { context, page } = await newContext();

      await page.goto(`${t.baseUrl}/${tenantId}/account`);
      await page.getByLabel('Username or email').fill('carol');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      await page.getByRole('button', { name: 'Set up two-step verification' }).click();
      const secret = (await page.locator('#totp-secret').textContent())!.trim();
      await freshStep();
      await page.getByLabel('Code shown by the app').fill(await totpCode(secret));
      await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
      await page.getByText('Two-step verification is on.').waitFor();
      const recovery = await page.locator('ol.codes code').allTextContents();
      expect(recovery).toHaveLength(10);
      await shot(page, 'account');
      await context.close();

      // Password, then a code from an independent generator (the next step: the last one is spent).
      const c2 = await newContext();
      const flow = await authorizationUrl(config);
      await c2.page.goto(flow.url.href);
      await c2.page.getByLabel('Username or email').fill('carol');
      await c2.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await c2.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await c2.page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await shot(c2.page, 'totp');
      await c2.page.getByLabel('Code from your authenticator app').fill(await totpCode(secret, 1));
      await c2.page.getByRole('button', { name: 'Verify' }).click();
      await c2.page.getByRole('button', { name: 'Allow' }).click();
      const claims = await backAtApp(c2.page, config, flow);
      expect(claims.preferred_username).toBe('carol');
      await c2.context.close();

      // A recovery code signs in once; twice more it fails.
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await newContext();
        const f = await authorizationUrl(config);
        await c.page.goto(f.url.href);
        await c.page.getByLabel('Username or email').fill('carol@example.test');
        await c.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await c.page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await c.page.getByLabel('Code from your authenticator app').fill(recovery[0]);
        await c.page.getByRole('button', { name: 'Verify' }).click();
        await c.page.waitForLoadState();
        if (i === 0) {
          // Consent was given in an earlier session: straight back to the app.
          const signed = await backAtApp(c.page, config, f);
          outcomes.push(`ok:${signed.preferred_username}`);
        } else {
          await c.page.getByRole('alert').waitFor();
          outcomes.push(`refused:${await c.page.getByRole('alert').textContent()}`);
        }
        await c.context.close();
      }
      expect(outcomes).toEqual([
        'ok:carol',
        'refused:The code is wrong or was already used.',
        'refused:The code is wrong or was already used.',
      ]);
    },
    SCENARIO_MS,
  );

  it(
    'enrols at sign-in when the tenant requires 2FA',
    async () => {
      const { tenantId, config } = await tenantWithApp({ is_2fa: true });
      await createUser(t, tenantId, { username: 'erin', password: PASSWORD });
      const { context, page } = await newContext();
      const flow = await authorizationUrl(config);
      await page.goto(flow.url.href);
      await page.getByLabel('Username or email').fill('erin');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
      await shot(page, 'enrol');
      const secret = (await page.locator('#totp-secret').textContent())!.trim();
      await freshStep();
      await page.getByLabel('Code shown by the app').fill(await totpCode(secret));
      await page.getByRole('button', { name: 'Turn on' }).click();
      expect(await page.locator('ol.codes code').count()).toBe(10);
      await shot(page, 'recovery-codes');
      await page.getByRole('button', { name: 'I saved my codes, continue' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      expect((await backAtApp(page, config, flow)).sub).toBeDefined();
      await context.close();
    },
    SCENARIO_MS,
  );

  it(
    'resets a password through the mailed link',
    async () => {
      const { tenantId, config } = await tenantWithApp();
      const email = `frank-${tenantId}@example.test`;
      await createUser(t, tenantId, { username: 'frank', email, password: PASSWORD });
      const { context, page } = await newContext();
      const flow = await authorizationUrl(config);
      await page.goto(flow.url.href);
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.getByLabel('Email').fill(email);
      await shot(page, 'reset-request');
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText('If an account has this address').waitFor();

      const mail = await waitUntil(`a mail to ${email}`, () => smtp.to(email)[0], {
        timeoutMs: 10_000,
        intervalMs: 50,
      }).catch(() => undefined);
      expect(mail).toBeDefined();
      const link = new RegExp(`${t.baseUrl}/${tenantId}/login/reset\\?token=[A-Za-z0-9_-]+`).exec(
        mail!.text,
      )![0];
      await page.goto(link);
      await page.getByLabel('New password', { exact: true }).fill('a brand new password');
      await page.getByLabel('Repeat the new password').fill('a brand new password');
      await shot(page, 'reset-form');
      await page.getByRole('button', { name: 'Save the password' }).click();
      await page.getByRole('heading', { name: 'Password changed' }).waitFor();

      // The link is single-use.
      await page.goto(link);
      await page.getByLabel('New password', { exact: true }).fill('another new password');
      await page.getByLabel('Repeat the new password').fill('another new password');
      await page.getByRole('button', { name: 'Save the password' }).click();
      await page.getByText('invalid, expired or already used').waitFor();
      await shot(page, 'error');

      const next = await authorizationUrl(config);
      await page.goto(next.url.href);
      await page.getByLabel('Username or email').fill('frank');
      await page.getByLabel('Password', { exact: true }).fill('a brand new password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      expect((await backAtApp(page, config, next)).preferred_username).toBe('frank');
      await context.close();
    },
    SCENARIO_MS,
  );
});
