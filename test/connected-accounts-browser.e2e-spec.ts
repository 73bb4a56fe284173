import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { DataSource } from 'typeorm';
import { launchChromium } from './chromium-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';

const SHOTS = join(process.cwd(), 'docs', 'screenshots');

/**
 * The account page's Connected accounts in Chromium (issue 21): the links are listed, one is
 * disconnected with its form, and the Connect buttons point at the upstream link route. Links
 * are written into the database, as the sign-in flow that makes them is tested elsewhere.
 */
describe('browser: connected accounts on the account page', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lists the links, disconnects one, offers the providers not linked yet', async () => {
    const { tenantId } = await fixtures.tenant(t, {
      prefix: 'conn',
      settings: { display_name: 'Acme Corp', primary_color: '#0b6e4f' },
    });
    const alice = await fixtures.user(t, tenantId, {
      email: 'alice.liddell@example.test',
      display_name: 'Alice Liddell',
    });
    for (const body of [
      { provider_id: 'google', preset: 'google', client_id: 'g', display_order: 1 },
      { provider_id: 'github', preset: 'github', client_id: 'gh', display_order: 2 },
      {
        provider_id: 'corp',
        label: 'Acme SSO',
        issuer: 'https://sso.acme.test',
        client_id: 'c',
        display_order: 3,
      },
    ]) {
      const r = await t.http('POST', `/api/v1/tenants/${tenantId}/upstream-providers`, { body });
      expect(r.status).toBe(201);
    }
    const db = t.app.get(DataSource);
    for (const [provider, subject, email] of [
      ['google', '108349211', 'alice.liddell@gmail.test'],
      ['github', '583231', 'alice@users.noreply.github.test'],
    ])
      await db.query(
        `INSERT INTO user_identity_links (tenant_id, user_id, provider_id, subject, email)
         VALUES ($1, $2, $3, $4, $5)`,
        [tenantId, alice.user_id, provider, subject, email],
      );

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${t.baseUrl}/${tenantId}/account`);
    await page.getByLabel('Username or email').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    const section = page.getByRole('region', { name: 'Connected accounts' });
    await section.waitFor();
    await section.getByText('alice.liddell@gmail.test').waitFor();
    const connect = section.getByRole('link', { name: 'Connect Acme SSO' });
    expect(await connect.getAttribute('href')).toBe(`/${tenantId}/upstream/corp/link`);
    expect(await section.getByRole('link', { name: /Connect (Google|GitHub)/ }).count()).toBe(0);
    await section.screenshot({ path: join(SHOTS, 'account-connected.png') });

    await section.getByRole('button', { name: 'Disconnect GitHub' }).click();
    await page.getByText('GitHub is disconnected.').waitFor();
    const after = page.getByRole('region', { name: 'Connected accounts' });
    expect(await after.getByRole('button', { name: /^Disconnect/ }).count()).toBe(1);
    expect(await after.getByRole('link', { name: 'Connect GitHub' }).getAttribute('href')).toBe(
      `/${tenantId}/upstream/github/link`,
    );
    const left = await db.query(
      `SELECT provider_id FROM user_identity_links WHERE tenant_id = $1 AND user_id = $2`,
      [tenantId, alice.user_id],
    );
    expect(left).toEqual([{ provider_id: 'google' }]);
    await context.close();
  }, 60_000);
});
