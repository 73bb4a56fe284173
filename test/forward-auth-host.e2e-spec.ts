import type { Server } from 'node:http';
import { PASSWORD, tenant, user } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { findForm } from './oidc-support.js';
import {
  freePort,
  HostBrowser,
  startEchoApp,
  startNginx,
  type HostResponse,
  type Nginx,
} from './nginx-support.js';

/**
 * Dedicated auth-host mode (PassKey Auth's `--auth-host`), per tenant (`auth_host`), behind a
 * real nginx running the README's two blocks: two app hosts (`/_idp/` to the tenant's
 * forward-auth) and an auth host (the whole identity server), plus the identity server's own
 * host. Host by host: UI paths 307 to the auth host, passkey ceremonies 404, the API 200;
 * without an auth host every host answers alike.
 */
const NOT_HERE = 'not on this host';

/** Follows redirects and signs in with alice's password; notes the host of the sign-in page. */
async function signIn(b: HostBrowser, url: string) {
  let res: HostResponse = await b.get(url);
  let formHost: string | undefined;
  for (let hops = 0; hops < 25; hops++) {
    if (res.status >= 300 && res.status < 400 && res.location) res = await b.get(res.location);
    else if (res.status === 200 && res.body.includes('name="password"') && !formHost) {
      formHost = res.url.host;
      const form = findForm(res.body, '/login');
      res = await b.post(new URL(form.action, res.url), {
        ...form.fields,
        login: 'alice',
        password: PASSWORD,
      });
    } else break;
  }
  return { res, formHost };
}

describe('forward-auth auth-host mode, host by host', () => {
  let t: TestApp;
  let nginx: Nginx;
  let echo: { port: number; server: Server };
  let tenantId: string;
  let app1: string;
  let app2: string;
  let auth: string;
  let idp: string;

  beforeAll(async () => {
    t = await startTestApp();
    echo = await startEchoApp();
    const port = await freePort();
    app1 = `app1.test:${port}`;
    app2 = `app2.test:${port}`;
    auth = `auth.test:${port}`;
    idp = new URL(t.baseUrl).host;
    ({ tenantId } = await tenant(t, { prefix: 'fh' }));
    await user(t, tenantId, { username: 'alice', email: 'alice@example.com' });
    for (const [name, host] of [
      ['Wiki', app1],
      ['Dashboard', app2],
    ]) {
      const a = await t.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
        body: { name, hosts: [host] },
      });
      expect(a.status).toBe(201);
    }
    nginx = await startNginx({
      port,
      hosts: ['app1.test', 'app2.test'],
      authHost: 'auth.test',
      idp,
      tenantId,
      appPort: echo.port,
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    echo?.server.close();
    await t?.close();
  });

  const browser = () => new HostBrowser(nginx.port);
  const setAuthHost = async (value: string | null) => {
    const r = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, {
      body: { auth_host: value },
    });
    expect(r.status).toBe(200);
    expect(r.body.auth_host).toBe(value);
  };
  /** The tenant's forward-auth path on a host: an app host's `/_idp/` route, else the tenant's. */
  const fa = (host: string, rest: string) =>
    host.startsWith('app')
      ? `http://${host}/_idp/${rest}`
      : `http://${host}/${tenantId}/forward-auth/${rest}`;
  const rd = () => encodeURIComponent(`http://${app1}/x?y=1`);
  it('validates auth_host (a lower-case host[:port]) and refuses anything else with 400', async () => {
    for (const bad of ['https://auth.example.com', 'Auth.Example.com', 'auth.example.com/x', '']) {
      const r = await t.http('PATCH', `/api/v1/tenants/${tenantId}`, { body: { auth_host: bad } });
      expect([bad, r.status]).toEqual([bad, 400]);
    }
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}`)).body.auth_host).toBeNull();
  });

  it('without an auth host every host answers alike, and a sign-in started on an app host completes', async () => {
    const b = browser();
    for (const host of [app1, app2, auth, idp]) {
      // The sign-in UI: served here (303 to the provider's authorize on PUBLIC_URL), GET and POST.
      for (const method of ['GET', 'POST']) {
        const r = await b.request(method, fa(host, `start?rd=${rd()}`), {
          form: method === 'POST' ? { keep: 'me' } : undefined,
        });
        expect([host, method, r.status]).toEqual([host, method, 303]);
        expect(r.location!.startsWith(`${t.baseUrl}/${tenantId}/authorize?`)).toBe(true);
      }
      // The provider's return point: served (an unknown state is 400), not 404 or 307.
      const cb = await b.get(fa(host, 'callback?state=x&code=y'));
      expect([host, cb.status]).toEqual([host, 400]);
      // The API: served.
      expect([host, (await b.request('POST', fa(host, 'proxy/validate'))).status]).toEqual([
        host,
        401,
      ]);
    }
    for (const host of [auth, idp]) {
      const page = await b.get(`http://${host}/${tenantId}/login/forgot`);
      expect([host, page.status]).toEqual([host, 200]);
      const ceremony = await b.request(
        'POST',
        `http://${host}/${tenantId}/account/passkeys/options`,
      );
      expect(ceremony.status).not.toBe(307);
      expect(ceremony.body).not.toContain(NOT_HERE);
    }
    // Started on the app host's /_idp/start (no cookie of that host carries the state).
    const { res, formHost } = await signIn(browser(), fa(app1, `start?rd=${rd()}`));
    expect(formHost).toBe(idp);
    expect(res.status).toBe(200);
    expect(res.url.host).toBe(app1);
    expect(JSON.parse(res.body).headers['remote-user']).toBe('alice');
  });

  it('with an auth host: UI 307 there (prefix stripped, method kept), ceremonies 404, API served, host by host', async () => {
    await setAuthHost(auth);
    try {
      const b = browser();
      const onAuth = (path: string) => `http://${auth}${path}`;
      const start = `/${tenantId}/forward-auth/start?rd=${rd()}`;
      for (const host of [app1, app2, idp]) {
        for (const method of ['GET', 'POST']) {
          const r = await b.request(method, fa(host, `start?rd=${rd()}`), {
            form: method === 'POST' ? { keep: 'me' } : undefined,
          });
          expect([host, method, r.status, r.location]).toEqual([host, method, 307, onAuth(start)]);
        }
        const cb = await b.get(fa(host, 'callback?state=x&code=y'));
        expect([host, cb.status, cb.location]).toEqual([
          host,
          307,
          onAuth(`/${tenantId}/forward-auth/callback?state=x&code=y`),
        ]);
        // Unrestricted API: served on every host.
        const validate = await b.request('POST', fa(host, 'proxy/validate'));
        expect([host, validate.status]).toEqual([host, 401]);
        const check = await b.get(fa(host, 'verify'), { 'x-original-url': `http://${app1}/x` });
        expect([host, check.status]).toEqual([host, 401]);
      }
      // The identity server's own host: the hosted pages and the provider's browser endpoints too.
      for (const path of [
        `/${tenantId}/login/forgot`,
        `/${tenantId}/account`,
        `/${tenantId}/authorize?client_id=x&response_type=code`,
        `/${tenantId}/interaction/abc`,
      ]) {
        const r = await b.get(`http://${idp}${path}`);
        expect([path, r.status, r.location]).toEqual([path, 307, onAuth(path)]);
      }
      // Restricted: the passkey ceremonies 404 off the auth host, and are served on it.
      for (const path of [
        `/${tenantId}/account/passkeys/options`,
        `/${tenantId}/interaction/abc/login/passkey-options`,
        `/${tenantId}/signup/passkey-options`,
      ]) {
        const off = await b.request('POST', `http://${idp}${path}`);
        expect([path, off.status]).toEqual([path, 404]);
        expect(JSON.parse(off.body).detail).toContain(NOT_HERE);
        const on = await b.request('POST', onAuth(path));
        expect([path, on.status === 307 || on.body.includes(NOT_HERE)]).toEqual([path, false]);
      }
      // API on the identity server's host and the auth host alike.
      for (const host of [idp, auth]) {
        const d = await b.get(`http://${host}/${tenantId}/.well-known/openid-configuration`);
        expect([host, d.status]).toEqual([host, 200]);
        expect(JSON.parse(d.body).issuer).toBe(`${t.baseUrl}/${tenantId}`);
      }
      // On the auth host the UI is served, and the authorization request stays there.
      const served = await b.get(onAuth(start));
      expect(served.status).toBe(303);
      expect(served.location!.startsWith(onAuth(`/${tenantId}/authorize?`))).toBe(true);
      expect((await b.get(onAuth(`/${tenantId}/login/forgot`))).status).toBe(200);
      expect((await b.get(onAuth(`/${tenantId}/forward-auth/callback?state=x`))).status).toBe(400);

      // A whole sign-in: the app's redirect, the 307, the hosted form on the auth host, the
      // provider's return (307 from PUBLIC_URL's callback), the hand-off on the app host.
      const { res, formHost } = await signIn(browser(), `http://${app2}/dash`);
      expect(formHost).toBe(auth);
      expect(res.status).toBe(200);
      expect(res.url.host).toBe(app2);
      expect(JSON.parse(res.body).headers['remote-user']).toBe('alice');

      // The account page, asked for on PUBLIC_URL: signed in and shown on the auth host (its
      // provider round trip returns to PUBLIC_URL's account/callback, which 307s there too).
      const account = await signIn(browser(), `http://${idp}/${tenantId}/account`);
      expect(account.formHost).toBe(auth);
      expect([account.res.status, account.res.url.host]).toEqual([200, auth]);
      expect(account.res.body).toContain('alice');
    } finally {
      await setAuthHost(null);
    }
    // Turned off: the identity server's host serves the UI again.
    const again = await browser().get(fa(idp, `start?rd=${rd()}`));
    expect(again.status).toBe(303);
  });
});
