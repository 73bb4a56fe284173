import { decodeJwt } from 'jose';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { headlessTenant } from './headless-support.js';
import { uniqueEmail } from './fixtures.js';
import { codeIn, MailCatcher } from './mail-support.js';

const P = (code: string) => `urn:idp:problem:${code}`;

/** The headless sign-in with a mailed code (the email-code method of the hosted pages). */
describe('headless sign-in: email code', () => {
  let t: TestApp;
  const smtp = new MailCatcher();
  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await smtp.start() } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  it('asks a code by address, signs in with it; unknown addresses get the same answer', async () => {
    const h = await headlessTenant(t);
    const email = uniqueEmail(h.tenantId);
    const ui = h.ui();
    const start = await ui.start();
    expect(start.body.methods).toContain('email_code');
    const id = start.body.auth_req_id as string;

    const unknown = await ui.post('email-code', { auth_req_id: id, email: `x-${email}` });
    const asked = await ui.post('email-code', { auth_req_id: id, email });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ status: 'continue', next: 'email_code' });
    expect(Object.keys(unknown.body)).toEqual(Object.keys(asked.body));
    expect(unknown.status).toBe(asked.status);

    const code = await waitUntil('the sign-in code mail', () => {
      const m = smtp.to(email).find((x) => /sign-in code is/.test(x.text));
      return m && codeIn(m);
    });
    const wrong = await ui.post('email-code/verify', {
      auth_req_id: id,
      step_token: asked.body.step_token,
      code: code === '000000' ? '111111' : '000000',
    });
    expect([wrong.status, wrong.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    // The token of the unknown address is no way into the known one.
    const other = await ui.post('email-code/verify', {
      auth_req_id: id,
      step_token: unknown.body.step_token,
      code,
    });
    expect([other.status, other.body.type]).toEqual([401, P('authn-invalid-credentials')]);

    const ok = await ui.post('email-code/verify', {
      auth_req_id: id,
      step_token: asked.body.step_token,
      code,
    });
    expect([ok.status, ok.body.status]).toEqual([200, 'complete']);
    const tokens = await ui.finish(ok.body.finish_url);
    expect(decodeJwt(tokens.id_token!).sub).toBe(h.userId);
  });

  it('mails a sign-in link whose page shows a code the custom UI takes', async () => {
    const h = await headlessTenant(t, { magic_link_enabled: true });
    const email = uniqueEmail(h.tenantId);
    const ui = h.ui();
    const start = await ui.start();
    expect(start.body.methods).toContain('magic_link');
    const id = start.body.auth_req_id as string;

    const unknown = await ui.post('magic-link', { auth_req_id: id, email: `x-${email}` });
    const asked = await ui.post('magic-link', { auth_req_id: id, email });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ status: 'continue', next: 'magic_link_code' });
    expect(Object.keys(unknown.body)).toEqual(Object.keys(asked.body));
    // An email-code step token is not a sign-in link's step.
    const codeStep = await ui.post('email-code', { auth_req_id: id, email });
    expect(
      (
        await ui.post('magic-link/verify', {
          auth_req_id: id,
          step_token: codeStep.body.step_token,
          code: '123456',
        })
      ).body.type,
    ).toBe(P('authn-step-expired'));

    const link = await waitUntil('the sign-in link mail', () => {
      const m = smtp.to(email).find((x) => /your sign-in link/.test(x.subject));
      return (
        m && /(https?:\/\/\S+\/login\/magic-link\/open\?token=[A-Za-z0-9_-]+)/.exec(m.text)?.[1]
      );
    });
    // Opened anywhere (a phone, a mail scanner): the page shows the code and spends nothing.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    const shown = /class="bigcode"[^>]*>(\d{3}) (\d{3})</.exec(html)!.slice(1, 3).join('');
    expect(shown).toMatch(/^\d{6}$/);

    const wrong = await ui.post('magic-link/verify', {
      auth_req_id: id,
      step_token: asked.body.step_token,
      code: shown === '000000' ? '111111' : '000000',
    });
    expect([wrong.status, wrong.body.type]).toEqual([401, P('authn-invalid-credentials')]);
    // The unknown address's step (another nonce) is no way into the known one.
    const other = await ui.post('magic-link/verify', {
      auth_req_id: id,
      step_token: unknown.body.step_token,
      code: shown,
    });
    expect([other.status, other.body.type]).toEqual([401, P('authn-invalid-credentials')]);

    const ok = await ui.post('magic-link/verify', {
      auth_req_id: id,
      step_token: asked.body.step_token,
      code: shown,
    });
    expect([ok.status, ok.body.status]).toEqual([200, 'complete']);
    const tokens = await ui.finish(ok.body.finish_url);
    expect(decodeJwt(tokens.id_token!)).toMatchObject({ sub: h.userId, amr: ['otp'] });
  });

  it('refuses sign-in links where the tenant has them off (the default)', async () => {
    const h = await headlessTenant(t);
    const ui = h.ui();
    const start = await ui.start();
    expect(start.body.methods).not.toContain('magic_link');
    const r = await ui.post('magic-link', {
      auth_req_id: start.body.auth_req_id,
      email: uniqueEmail(h.tenantId),
    });
    expect([r.status, r.body.type]).toEqual([403, P('authn-method-unavailable')]);
  });
});
