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
});
