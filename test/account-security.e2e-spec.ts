import * as client from 'openid-client';
import { elapse, startTestApp, type TestApp } from './harness.js';
import {
  enrolTotp,
  follow,
  freshStep,
  PASSWORD,
  REDIRECT,
  selfToken,
  submit,
} from './account-support.js';
import { MailCatcher, type Mail } from './mail-support.js';
import { Browser, findForm, oauthError, signIn } from './oidc-support.js';
import { SoftAuthenticator } from './webauthn-support.js';
import * as fixtures from './fixtures.js';

/** Small enough to outwait in a test, large enough for a sign-in to finish inside it. */
/** Long enough for a TOTP enrolment (which may wait for the next 30-second step) on a fresh token. */
const RECENT_AUTH_SECONDS = 10;

const notices = (mails: Mail[]) => mails.filter((m) => /sign-in method was added/.test(m.subject));

describe('account security: recent sign-in, credential notices, reset, email changes', () => {
  let t: TestApp;
  const smtp = new MailCatcher();

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    t = await startTestApp({
      env: { SMTP_URL: smtpUrl, RECENT_AUTH_SECONDS: String(RECENT_AUTH_SECONDS) },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  async function setup() {
    const tenant = await fixtures.tenant(t, {
      scopes: ['users:write', 'users:read', 'api-keys:write', 'scim'],
    });
    const { tenantId } = tenant;
    const email = fixtures.uniqueEmail(tenantId);
    const alice = await fixtures.user(t, tenantId, { email });
    const { config } = await fixtures.registeredClient(
      t,
      tenantId,
      fixtures.firstPartyApp(REDIRECT, {
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'offline_access'],
      }),
    );
    const key = await selfToken(t, tenantId);
    return { ...tenant, alice, email, config, userKey: key };
  }
  type Setup = Awaited<ReturnType<typeof setup>>;

  async function accountSignIn(x: Setup, b: Browser) {
    const login = await follow(b, await b.get(`${t.baseUrl}/${x.tenantId}/account`));
    expect(login.html).toContain('name="password"');
    const page = await follow(
      b,
      await submit(b, login, '/login', { login: 'alice', password: PASSWORD }),
    );
    expect(page.url.pathname).toBe(`/${x.tenantId}/account`);
    return page;
  }

  async function addPasskey(x: Setup, name: string) {
    const base = `/api/v1/tenants/${x.tenantId}/me/passkeys`;
    const opts = await t.http('POST', `${base}/registration-options`, { key: x.userKey });
    expect(opts.status).toBe(200);
    const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
    const r = await t.http('POST', `${base}/registration`, {
      key: x.userKey,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
        name,
      },
    });
    expect(r.status).toBe(201);
  }

  it('sends an old account-page session to sign in again before it hands out passkey options', async () => {
    const x = await setup();
    const b = new Browser();
    const page = await accountSignIn(x, b);
    const csrf = findForm(page.html, '/passkeys/register').fields.csrf;
    const options = () => b.post(`${t.baseUrl}/${x.tenantId}/account/passkeys/options`, { csrf });
    // Just signed in: options at once.
    const fresh = await options();
    expect(fresh.status).toBe(200);
    expect(JSON.parse(fresh.html).challenge_id).toBeDefined();

    // On purpose: the recent sign-in window is wall-clock time, so it has to pass (a poll
    // would mint a passkey challenge per try and prove less).
    await elapse((RECENT_AUTH_SECONDS + 1.5) * 1000);
    const stale = await options();
    expect(stale.status).toBe(401);
    const answer = JSON.parse(stale.html);
    expect(answer.challenge_id).toBeUndefined();
    expect(answer.options).toBeUndefined();
    expect(answer.reauthenticate).toBe(`/${x.tenantId}/account/signin?reauth=1`);

    // Signing in again asks for the password although the session is live.
    const again = await follow(b, await b.get(`${t.baseUrl}${answer.reauthenticate}`));
    expect(again.url.pathname).toContain('/interaction/');
    expect(again.html).toContain('name="password"');
    const back = await follow(
      b,
      await submit(b, again, '/login', { login: 'alice', password: PASSWORD }),
    );
    expect(back.url.pathname).toBe(`/${x.tenantId}/account`);
    const renewed = await b.post(`${t.baseUrl}/${x.tenantId}/account/passkeys/options`, {
      csrf: findForm(back.html, '/passkeys/register').fields.csrf,
    });
    expect(renewed.status).toBe(200);
  });

  it('mails the user when a passkey or TOTP is added', async () => {
    const x = await setup();
    await addPasskey(x, 'Work laptop');
    const [passkey] = notices(await smtp.waitFor(x.email, 1));
    expect(passkey.text).toContain('A passkey ("Work laptop") was added to your account.');
    // A fresh TOTP step first, then a fresh sign-in: the confirm must come within the window.
    await freshStep();
    await enrolTotp(t, x.tenantId, await selfToken(t, x.tenantId));
    await smtp.waitFor(x.email, 2);
    const both = notices(smtp.to(x.email));
    expect(both).toHaveLength(2);
    expect(both[1].text).toContain('Two-step verification with an authenticator app');
  });

  it('a password reset ends every session and token, and its mail lists the passkeys', async () => {
    const x = await setup();
    await addPasskey(x, 'Phone');
    await addPasskey(x, 'Yubi <key>');
    const b = new Browser();
    await accountSignIn(x, b);
    const s = await signIn(new Browser(), x.config, {
      username: 'alice',
      password: PASSWORD,
      redirectUri: REDIRECT,
      scope: 'openid profile offline_access',
      extra: { prompt: 'consent' },
    });
    const tokens = await fixtures.exchange(x.config, s);
    expect(tokens.refresh_token).toBeDefined();

    const api = `/api/v1/tenants/${x.tenantId}`;
    const asked = await t.http('POST', `${api}/password-reset`, {
      key: null,
      body: { email: x.email },
    });
    expect(asked.status).toBe(202);
    const mails = await smtp.waitFor(x.email, 3);
    const reset = mails.find((m) => /reset your password/.test(m.subject))!;
    expect(reset.text).toContain('Phone');
    expect(reset.text).toContain('Yubi <key>');
    expect(reset.html).toContain('Yubi &lt;key&gt;');
    expect(reset.text).toContain('signs you out everywhere');
    const token = /\?token=([A-Za-z0-9_-]+)/.exec(reset.text)![1];
    const done = await t.http('POST', `${api}/password-reset/confirm`, {
      key: null,
      body: { token, password: 'a brand new password 42' },
    });
    expect(done.status).toBe(204);

    // The old browser session, refresh token and access token all stopped working.
    expect((await b.get(`${t.baseUrl}/${x.tenantId}/account`)).status).toBe(303);
    expect(await oauthError(client.refreshTokenGrant(x.config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect(
      await oauthError(
        client.fetchUserInfo(x.config, tokens.access_token, client.skipSubjectCheck),
      ),
    ).toBe('invalid_token');
  });

  it('resets is_verified when the API changes the address, unless the request sets it', async () => {
    const x = await setup();
    const user = `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`;
    const patch = (body: Record<string, unknown>) =>
      t.http('PATCH', user, { key: x.key, body }).then((r) => {
        expect(r.status).toBe(200);
        return r.body as { email: string; is_verified: boolean };
      });
    expect((await patch({ is_verified: true })).is_verified).toBe(true);
    // Only the case changed: the same mailbox, still verified.
    expect((await patch({ email: x.email.toUpperCase() })).is_verified).toBe(true);
    expect((await patch({ display_name: 'Alice' })).is_verified).toBe(true);
    const moved = await patch({ email: `moved-${x.email}` });
    expect(moved).toMatchObject({ email: `moved-${x.email}`, is_verified: false });
    // The caller vouches for the new address in the same request.
    const vouched = await patch({ email: `third-${x.email}`, is_verified: true });
    expect(vouched.is_verified).toBe(true);
    const put = await t.http('PUT', user, {
      key: x.key,
      body: { username: 'alice', email: `fourth-${x.email}` },
    });
    expect(put.status).toBe(200);
    expect(put.body.is_verified).toBe(false);
  });

  it('resets is_verified when SCIM changes the address (PATCH and PUT)', async () => {
    const x = await setup();
    const user = `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}`;
    const scim = `/${x.tenantId}/scim/v2/Users/${x.alice.user_id}`;
    const verify = () => t.http('PATCH', user, { key: x.key, body: { is_verified: true } });
    const verified = async () => (await t.http('GET', user, { key: x.key })).body.is_verified;
    const headers = { 'content-type': 'application/scim+json' };

    await verify();
    const title = await t.http('PATCH', scim, {
      key: x.key,
      headers,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Alice A.' }],
      },
    });
    expect(title.status).toBe(200);
    expect(await verified()).toBe(true);

    const moved = await t.http('PATCH', scim, {
      key: x.key,
      headers,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          {
            op: 'replace',
            path: 'emails',
            value: [{ value: `moved-${x.email}`, type: 'work', primary: true }],
          },
        ],
      },
    });
    expect(moved.status).toBe(200);
    expect(await verified()).toBe(false);

    await verify();
    const current = await t.http('GET', scim, { key: x.key });
    const put = await t.http('PUT', scim, {
      key: x.key,
      headers,
      body: { ...current.body, emails: [{ value: `put-${x.email}`, primary: true }] },
    });
    expect(put.status).toBe(200);
    expect(await verified()).toBe(false);
  });
});
