import { newTenant, startTestApp, waitUntil, type TestApp } from './harness.js';
import { AuditService } from '../src/audit/audit.service.js';
import {
  enrolTotp,
  PASSWORD,
  REDIRECT,
  startLogin,
  submit,
  tokensOf,
  selfToken,
} from './account-support.js';
import {
  Browser,
  createClient,
  createUser,
  discover,
  findForm,
  type BrowserResponse,
} from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { codeIn, MailCatcher, markerMail } from './mail-support.js';

const SENT = 'If an account exists for';
const WRONG = 'The code is wrong, has expired or was already used.';

/** From the login page to the code page, asking a code for `email`. */
async function askCode(b: Browser, login: BrowserResponse, email: string) {
  expect(login.html).toContain('Email me a sign-in code');
  const link = findForm(login.html, '/login/email-code');
  const ask = await b.get(new URL(link.action, login.url));
  expect(ask.status).toBe(200);
  expect(ask.html).toContain('name="email"');
  const page = await submit(b, ask, '/login/email-code', { email });
  return { ask, page };
}

/** A code page with its per-request values and the address blanked out. */
const strip = (html: string, email: string) =>
  html
    .replaceAll(email, 'EMAIL')
    .replace(/name="(csrf|pending)" value="[^"]*"/g, 'name="$1" value=""')
    .replace(/\/interaction\/[^/"]+/g, '/interaction/UID');

describe('hosted login: sign-in code by email', () => {
  let t: TestApp;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  /** The code of the `n`th code mail to `address` (1-based), waiting for it to arrive. */
  function codeFor(address: string, n = 1): Promise<string> {
    return waitUntil(`sign-in code ${n} mailed to ${address}`, () => {
      const codes = smtp.to(address).filter((m) => /sign-in code is/.test(m.text));
      return codes[n - 1] && codeIn(codes[n - 1]);
    });
  }

  async function setup() {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:write', 'api-keys:write', 'audit:read'],
    });
    const email = fixtures.uniqueEmail(tenant.tenantId);
    const x = await fixtures.app(t, {
      within: tenant,
      user: { email },
      client: fixtures.firstPartyApp(),
    });
    return { ...x, alice: x.user, email };
  }

  async function auditOf(tenantId: string, key: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${tenantId}/audit-events?type=${type}&limit=50`,
      { key },
    );
    expect(r.status).toBe(200);
    return r.body.data as Array<{ method: string; subject_id?: string | null }>;
  }

  it('signs in with the mailed code, refuses a wrong one, then refuses the spent one', async () => {
    const x = await setup();
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const { page } = await askCode(b, s.page, x.email);
    expect(page.status).toBe(200);
    expect(page.html).toContain(SENT);
    const code = await codeFor(x.email);

    // A wrong code: the code page again with the one message, and the mailed code stays good.
    const wrongCode = code === '000000' ? '111111' : '000000';
    const wrong = await submit(b, page, '/email-code/verify', { code: wrongCode });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain(WRONG);
    expect(wrong.html).toContain('name="code"');
    // Malformed input and forged state are refused without a 500.
    expect((await submit(b, page, '/email-code/verify', { code: 'x'.repeat(5000) })).status).toBe(
      401,
    );
    expect(
      (await submit(b, page, '/email-code/verify', { code, pending: 'v1.a.b.c' })).status,
    ).toBe(400);
    expect((await submit(b, page, '/email-code/verify', { code, csrf: 'nope' })).status).toBe(403);
    // Not from the login form: the code has its own step, which carries the address sealed.
    const direct = await submit(b, s.page, '/login', {
      method: 'email_code',
      email: x.email,
      code,
    });
    expect(direct.status).toBe(400);

    const ok = await submit(b, wrong, '/email-code/verify', { code });
    expect(ok.status).toBe(303);
    const tokens = await tokensOf(b, x.config, s, ok);
    expect(tokens.claims()!.sub).toBe(x.alice.user_id);

    // Two more sign-ins, each with a code step: the later request replaces the earlier code.
    const b2 = new Browser();
    const s2 = await startLogin(b2, x.config);
    const second = await askCode(b2, s2.page, x.email);
    const code2 = await codeFor(x.email, 2);
    const b3 = new Browser();
    const s3 = await startLogin(b3, x.config);
    const third = await askCode(b3, s3.page, x.email);
    const code3 = await codeFor(x.email, 3);
    const ok3 = await submit(b3, third.page, '/email-code/verify', { code: code3 });
    expect(ok3.status).toBe(303);
    expect((await tokensOf(b3, x.config, s3, ok3)).claims()!.sub).toBe(x.alice.user_id);
    // The code just used, the first one (used) and the replaced one: all refused alike.
    for (const reused of [code3, code, code2]) {
      const again = await submit(b2, second.page, '/email-code/verify', { code: reused });
      expect(again.status).toBe(401);
      expect(again.html).toContain(WRONG);
    }

    const successes = await auditOf(x.tenantId, x.key, 'login.success');
    expect(successes.filter((e) => e.method === 'email_code')).toHaveLength(2);
    const failures = await auditOf(x.tenantId, x.key, 'login.failure');
    expect(failures.filter((e) => e.method === 'email_code').length).toBeGreaterThanOrEqual(3);
  });

  it('answers an unknown address exactly like a known one and mails nothing', async () => {
    const x = await setup();
    const unknown = `nobody-${x.tenantId}@example.test`;
    const b1 = new Browser();
    const known = await askCode(b1, (await startLogin(b1, x.config)).page, x.email);
    const b2 = new Browser();
    const other = await askCode(b2, (await startLogin(b2, x.config)).page, unknown);
    expect(other.page.status).toBe(known.page.status);
    expect(strip(other.page.html, unknown)).toBe(strip(known.page.html, x.email));
    expect(other.page.html).toContain(SENT);

    await codeFor(x.email);
    const marker = await markerMail(t, x.tenantId);
    expect(await smtp.after(marker.address, marker.send, unknown)).toHaveLength(0);
    // Whatever code is tried for it, the same refusal.
    const tried = await submit(b2, other.page, '/email-code/verify', { code: '123456' });
    expect(tried.status).toBe(401);
    expect(tried.html).toContain(WRONG);

    // A missing or malformed address: asked again, no mail, no 500.
    expect((await submit(b2, other.ask, '/login/email-code', { email: '' })).status).toBe(400);
    expect(
      (await submit(b2, other.ask, '/login/email-code', { email: `${'a'.repeat(300)}@x.test` }))
        .status,
    ).toBe(400);
    expect(
      (await submit(b2, other.ask, '/login/email-code', { email: unknown, csrf: 'bad' })).status,
    ).toBe(403);
  });

  it('still asks a TOTP user for the second factor after the code', async () => {
    const x = await setup();
    const key = await selfToken(t, x.tenantId);
    await enrolTotp(t, x.tenantId, key);
    // The sign-in that gave the token is one; the code alone must add none.
    const signedIn = (await auditOf(x.tenantId, x.key, 'login.success')).length;
    const b = new Browser();
    const s = await startLogin(b, x.config);
    const { page } = await askCode(b, s.page, x.email);
    const step = await submit(b, page, '/email-code/verify', { code: await codeFor(x.email) });
    expect(step.status).toBe(200);
    expect(step.html).toContain('Two-step verification');
    expect(findForm(step.html, '/second-factor').fields.pending).toBeTruthy();
    expect((await auditOf(x.tenantId, x.key, 'login.success')).length).toBe(signedIn);
  });

  it('is not offered when mail is not configured', async () => {
    const plain = await startTestApp();
    try {
      const tenant = await newTenant(plain, ['users:write']);
      await createUser(plain, tenant.tenantId, {
        username: 'bob',
        email: 'bob@example.test',
        password: PASSWORD,
      });
      const c = await createClient(plain, tenant.tenantId, {
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        allowed_scopes: ['openid', 'profile'],
        first_party: true,
      });
      const config = await discover(
        `${plain.baseUrl}/${tenant.tenantId}`,
        c.client_id,
        c.client_secret,
      );
      const b = new Browser();
      const s = await startLogin(b, config);
      expect(s.page.status).toBe(200);
      expect(s.page.html).toContain('name="password"');
      expect(s.page.html).not.toContain('email-code');
      expect(s.page.html).not.toContain('sign-in code');
      const base = new URL(findForm(s.page.html, '/login').action, s.page.url);
      expect((await b.get(`${base.href}/email-code`)).status).toBe(403);
      const posted = await submit(b, s.page, '/login', {
        method: 'email_code',
        email: 'bob@example.test',
        code: '123456',
      });
      expect(posted.status).toBe(400);
    } finally {
      await plain.close();
    }
  });
});
