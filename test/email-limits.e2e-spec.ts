import { startTestApp, type TestApp } from './harness.js';
import { ADDRESS_MAIL_LIMIT, IP_MAIL_LIMIT } from '../src/email-flows/mail-limits.js';
import { startLogin, submit, tokensOf } from './account-support.js';
import { codeIn, MailCatcher, markerMail } from './mail-support.js';
import { Browser, findForm, type BrowserResponse } from './oidc-support.js';
import * as fixtures from './fixtures.js';

const SENT = 'If an account exists for';

/** From the login page to the code page, asking a code for `email`. */
async function askCode(b: Browser, login: BrowserResponse, email: string) {
  const link = findForm(login.html, '/login/email-code');
  const ask = await b.get(new URL(link.action, login.url));
  expect(ask.status).toBe(200);
  return submit(b, ask, '/login/email-code', { email });
}

/** A page with its per-request values and the address blanked out. */
const strip = (html: string, email: string) =>
  html
    .replaceAll(email, 'EMAIL')
    .replace(/name="(csrf|pending)" value="[^"]*"/g, 'name="$1" value=""')
    .replace(/\/interaction\/[^/"]+/g, '/interaction/UID');

describe('limits on mail sent by public requests', () => {
  let t: TestApp;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    // Behind a trusted proxy, so each request can come from its own address.
    t = await startTestApp({ env: { SMTP_URL: smtpUrl, TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function setup() {
    const tenant = await fixtures.tenant(t, { scopes: ['users:write', 'api-keys:write'] });
    const email = fixtures.uniqueEmail(tenant.tenantId);
    const x = await fixtures.app(t, {
      within: tenant,
      user: { email },
      client: fixtures.firstPartyApp(),
    });
    return { ...x, alice: x.user, email, marker: await markerMail(t, tenant.tenantId) };
  }

  it('resends the live sign-in code: a second request does not kill the code being typed', async () => {
    const x = await setup();
    const b1 = new Browser();
    const s1 = await startLogin(b1, x.config);
    const page1 = await askCode(b1, s1.page, x.email);
    expect(page1.html).toContain(SENT);
    const [first] = await smtp.waitFor(x.email, 1);

    // Someone (or the user, impatient) asks again from another browser.
    const b2 = new Browser();
    const page2 = await askCode(b2, (await startLogin(b2, x.config)).page, x.email);
    expect(page2.html).toContain(SENT);
    const [, second] = await smtp.waitFor(x.email, 2);
    expect(codeIn(second)).toBe(codeIn(first));

    // The first browser's code still signs in.
    const ok = await submit(b1, page1, '/email-code/verify', { code: codeIn(first) });
    expect(ok.status).toBe(303);
    expect((await tokensOf(b1, x.config, s1, ok)).claims()!.sub).toBe(x.alice.user_id);

    // Spent now: the next request mints a new code.
    const b3 = new Browser();
    await askCode(b3, (await startLogin(b3, x.config)).page, x.email);
    const third = (await smtp.waitFor(x.email, 3))[2];
    expect(codeIn(third)).toMatch(/^\d{6}$/);
    expect(codeIn(third)).not.toBe(codeIn(first));
  });

  it('mails one address at most the limit of sign-in codes, answering every request alike', async () => {
    const x = await setup();
    const unknown = `nobody-${x.tenantId}@example.test`;
    const n = ADDRESS_MAIL_LIMIT.max + 3;
    const pages: string[] = [];
    const unknownPages: string[] = [];
    for (let i = 0; i < n; i++) {
      const b = new Browser();
      const page = await askCode(b, (await startLogin(b, x.config)).page, x.email);
      expect(page.status).toBe(200);
      pages.push(strip(page.html, x.email));
      const u = new Browser();
      const other = await askCode(u, (await startLogin(u, x.config)).page, unknown);
      expect(other.status).toBe(200);
      unknownPages.push(strip(other.html, unknown));
    }
    // Under and over the limit, known and unknown: one and the same page.
    expect(new Set([...pages, ...unknownPages]).size).toBe(1);
    await smtp.waitFor(x.email, ADDRESS_MAIL_LIMIT.max, 15_000);
    const mails = await smtp.after(x.marker.address, x.marker.send, x.email);
    expect(mails).toHaveLength(ADDRESS_MAIL_LIMIT.max);
    // Every one of them carries the same live code.
    expect(new Set(mails.map(codeIn)).size).toBe(1);
    expect(smtp.to(unknown)).toHaveLength(0);
  });

  it('mails one address at most the limit of reset links, from any number of IPs, also in a burst', async () => {
    const x = await setup();
    const unknown = `nobody-${x.tenantId}@example.test`;
    const path = `/api/v1/tenants/${x.tenantId}/password-reset`;
    const ask = (email: string, i: number) =>
      t.http('POST', path, {
        key: null,
        body: { email },
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
      });
    const n = ADDRESS_MAIL_LIMIT.max + 4;
    // All at once: concurrent requests for one address must not slip past the count.
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => [ask(x.email, i), ask(unknown, i)]).flat(),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 202));
    expect(new Set(answers.map((r) => r.text)).size).toBe(1);
    await smtp.waitFor(x.email, ADDRESS_MAIL_LIMIT.max, 15_000);
    expect(await smtp.after(x.marker.address, x.marker.send, x.email)).toHaveLength(
      ADDRESS_MAIL_LIMIT.max,
    );
    expect(smtp.to(unknown)).toHaveLength(0);
  });

  it('answers 429 once one IP has asked for too many mails, without a word about any address', async () => {
    const x = await setup();
    const path = `/api/v1/tenants/${x.tenantId}/password-reset`;
    const from = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < IP_MAIL_LIMIT.max; i++) {
      const r = await t.http('POST', path, {
        key: null,
        body: { email: `someone${i}-${x.tenantId}@example.test` },
        headers: from,
      });
      expect(r.status).toBe(202);
    }
    for (const email of [x.email, `nobody-${x.tenantId}@example.test`]) {
      const over = await t.http('POST', path, { key: null, body: { email }, headers: from });
      expect(over.status).toBe(429);
      expect(over.headers.get('content-type')).toContain('application/problem+json');
      expect(over.body.detail).not.toContain('@');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Another IP is not affected.
    const other = await t.http('POST', path, {
      key: null,
      body: { email: x.email },
      headers: { 'x-forwarded-for': '203.0.113.8' },
    });
    expect(other.status).toBe(202);
  });

  it('refuses the sign-in code page past the per-IP limit with 429, the same for every address', async () => {
    const x = await setup();
    const b = new Browser();
    const s = await startLogin(b, x.config);
    for (let i = 0; i < IP_MAIL_LIMIT.max; i++) {
      const page = await askCode(b, s.page, `someone${i}-${x.tenantId}@example.test`);
      expect(page.status).toBe(200);
    }
    const known = await askCode(b, s.page, x.email);
    const unknown = await askCode(b, s.page, `nobody-${x.tenantId}@example.test`);
    expect(known.status).toBe(429);
    expect(known.html).toContain('Too many requests from your network');
    expect(strip(unknown.html, `nobody-${x.tenantId}@example.test`)).toBe(
      strip(known.html, x.email),
    );
    expect(await smtp.after(x.marker.address, x.marker.send, x.email)).toHaveLength(0);
  });
});
