import type { Server } from 'node:http';
import { deriveTenantKey } from '../libs/crypto/index.js';
import { sign } from '../src/forward-auth/forward-cookie.js';
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
 * Forward-auth behind a real nginx configured with the README's example (auth_request): two
 * app hosts in front of an echo app, the sign-in through the hosted pages, revocation, and
 * the cookies and return URLs an attacker would try.
 */
const COOKIE = 'idp_forward_auth';

const seen = (r: HostResponse) =>
  JSON.parse(r.body) as { headers: Record<string, string>; url: string };

describe('forward-auth behind nginx', () => {
  let t: TestApp;
  let nginx: Nginx;
  let echo: { port: number; server: Server };
  let tenantId: string;
  let app1: string;
  let app2: string;
  let alice: { user_id: string };
  let staffId: string;

  beforeAll(async () => {
    t = await startTestApp();
    echo = await startEchoApp();
    const port = await freePort();
    app1 = `app1.test:${port}`;
    app2 = `app2.test:${port}`;
    ({ tenantId } = await tenant(t, { prefix: 'fa' }));
    alice = await user(t, tenantId, {
      username: 'alice',
      email: 'alice@example.com',
      display_name: 'Alice Liddell',
    });
    await user(t, tenantId, { username: 'bob', email: 'bob@example.com' });
    const g = await t.http('POST', `/api/v1/tenants/${tenantId}/groups`, {
      body: { name: 'staff' },
    });
    staffId = g.body.group_id;
    await t.http('PUT', `/api/v1/tenants/${tenantId}/groups/${staffId}/members/${alice.user_id}`);
    const a1 = await t.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
      body: { name: 'Staff wiki', hosts: [app1], allowed_group_ids: [staffId] },
    });
    expect(a1.status).toBe(201);
    const a2 = await t.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
      body: { name: 'Dashboard', hosts: [app2] },
    });
    expect(a2.status).toBe(201);
    nginx = await startNginx({
      port,
      hosts: ['app1.test', 'app2.test'],
      idp: new URL(t.baseUrl).host,
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

  async function signedIn(username: string, host = app1) {
    const b = browser();
    const res = await b.visit(`http://${host}/page?x=1`, { username, password: PASSWORD });
    return { b, res };
  }

  it('sends an anonymous browser to sign-in, and after the hosted sign-in the app sees who it is', async () => {
    const b = browser();
    const first = await b.get(`http://${app1}/page?x=1&y=2`);
    expect(first.status).toBe(302);
    const signin = new URL(first.location!);
    expect(signin.origin).toBe(t.baseUrl);
    expect(signin.pathname).toBe(`/${tenantId}/forward-auth/start`);
    expect(signin.searchParams.get('rd')).toBe(`http://${app1}/page?x=1&y=2`);
    // Nothing reached the app.
    const res = await b.visit(first.location!, { username: 'alice', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.url.host).toBe(app1);
    const got = seen(res);
    expect(got.url).toBe('/page?x=1&y=2');
    expect(got.headers['remote-user']).toBe('alice');
    expect(got.headers['remote-email']).toBe('alice@example.com');
    expect(got.headers['remote-name']).toBe('Alice Liddell');
    expect(got.headers['remote-groups']).toBe('staff');
    expect(got.headers['remote-id']).toBe(alice.user_id);
    // A header the browser sends itself never reaches the app as identity.
    const spoof = await b.get(`http://${app1}/again`, { 'remote-user': 'mallory' });
    expect(seen(spoof).headers['remote-user']).toBe('alice');
    // The cookie is for app1's host only; app2 gets its own through the same session (no second sign-in).
    expect(b.cookieFor(`http://${app2}/`, COOKIE)).toBeUndefined();
    const other = await b.visit(`http://${app2}/dash`);
    expect(other.status).toBe(200);
    expect(seen(other).headers['remote-user']).toBe('alice');
  });

  it('refuses a signed-in user outside the allowed group with 403, and lets them into the open app', async () => {
    const { b, res } = await signedIn('bob');
    expect(res.status).toBe(403);
    expect(res.url.host).toBe(app1);
    const open = await b.visit(`http://${app2}/`);
    expect(open.status).toBe(200);
    expect(seen(open).headers['remote-user']).toBe('bob');
    // No groups: nginx leaves an empty header out.
    expect(seen(open).headers['remote-groups']).toBeUndefined();
  });

  it('sign out everywhere on the account page refuses the next proxied request on every host', async () => {
    const { b, res } = await signedIn('alice');
    expect(res.status).toBe(200);
    expect((await b.visit(`http://${app2}/`)).status).toBe(200);
    const account = await b.visit(`${t.baseUrl}/${tenantId}/account`);
    expect(account.status).toBe(200);
    const form = findForm(account.body, 'sessions/revoke-all');
    const done = await b.post(new URL(form.action, account.url), form.fields);
    expect(done.status).toBeLessThan(400);
    for (const host of [app1, app2]) {
      const after = await b.get(`http://${host}/page`);
      expect(after.status).toBe(302);
      expect(after.location).toContain(`/${tenantId}/forward-auth/start`);
    }
    // Asked directly, as Traefik would for an API caller (no Accept: text/html): 401.
    const api = await fetch(`${t.baseUrl}/${tenantId}/forward-auth`, {
      headers: {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': app1,
        'x-forwarded-uri': '/api',
        cookie: `${COOKIE}=${b.cookieFor(`http://${app1}/`, COOKIE)}`,
      },
    });
    expect(api.status).toBe(401);
  });

  it('signing out on the app host, disabling the user and the admin revoke all end the session', async () => {
    let { b } = await signedIn('alice');
    const out = await b.request('POST', `http://${app1}/_idp/logout`);
    expect(out.status).toBe(200);
    expect(b.cookieFor(`http://${app1}/`, COOKIE)).toBeUndefined();
    ({ b } = await signedIn('alice'));
    const kept = b.cookieFor(`http://${app1}/`, COOKIE)!;
    await b.request('POST', `http://${app1}/_idp/logout`);
    b.setCookie('app1.test', COOKIE, kept); // a copy kept from before the sign-out
    expect((await b.get(`http://${app1}/`)).status).toBe(302);

    ({ b } = await signedIn('alice'));
    expect((await b.get(`http://${app1}/`)).status).toBe(200);
    const revoke = await t.http(
      'DELETE',
      `/api/v1/tenants/${tenantId}/users/${alice.user_id}/sessions`,
    );
    expect(revoke.status).toBe(200);
    expect((await b.get(`http://${app1}/`)).status).toBe(302);

    ({ b } = await signedIn('alice'));
    expect((await b.get(`http://${app1}/`)).status).toBe(200);
    await t.http('PATCH', `/api/v1/tenants/${tenantId}/users/${alice.user_id}`, {
      body: { is_disabled: true },
    });
    try {
      expect((await b.get(`http://${app1}/`)).status).toBe(302);
    } finally {
      await t.http('PATCH', `/api/v1/tenants/${tenantId}/users/${alice.user_id}`, {
        body: { is_disabled: false },
      });
    }
  });

  it("the provider's own logout (RP-initiated) refuses the next request too", async () => {
    const { b, res } = await signedIn('alice');
    expect(res.status).toBe(200);
    // The provider's own logout (what the account page's "Sign out" asks for; without its
    // client_id, which names the account client only when that client made the session).
    const confirm = await b.visit(`${t.baseUrl}/${tenantId}/logout`);
    const form = findForm(confirm.body, 'logout');
    const done = await b.post(new URL(form.action, confirm.url), { ...form.fields, logout: 'yes' });
    expect(done.status).toBeLessThan(400);
    const after = await b.get(`http://${app1}/page`);
    expect(after.status).toBe(302);
    expect(after.location).toContain(`/${tenantId}/forward-auth/start`);
  });

  it('refuses a forged, an expired and another tenant’s cookie', async () => {
    const { b } = await signedIn('alice');
    const genuine = b.cookieFor(`http://${app1}/`, COOKIE)!;
    expect((await b.get(`http://${app1}/`)).status).toBe(200);
    const [body, mac] = genuine.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const attempts: Record<string, string> = {
      // the payload changed, the signature kept
      forged: `${Buffer.from(JSON.stringify({ ...payload, usr: 'admin' })).toString('base64url')}.${mac}`,
      // a genuine signature over a cookie whose time is up
      expired: sign(
        deriveTenantKey(t.config.masterKey, { tenantId, purpose: 'forward-auth-cookies' }),
        {
          ...payload,
          exp: Math.floor(Date.now() / 1000) - 5,
        },
      ),
      // a cookie another tenant signed, for itself and claiming to be this tenant's
      otherTenant: sign(
        deriveTenantKey(t.config.masterKey, {
          tenantId: 'other-tenant',
          purpose: 'forward-auth-cookies',
        }),
        { ...payload, t: 'other-tenant' },
      ),
      otherKey: sign(
        deriveTenantKey(t.config.masterKey, {
          tenantId: 'other-tenant',
          purpose: 'forward-auth-cookies',
        }),
        payload,
      ),
      garbage: 'not-a-cookie',
    };
    for (const [what, value] of Object.entries(attempts)) {
      b.setCookie('app1.test', COOKIE, value);
      const r = await b.get(`http://${app1}/`);
      // nginx turns the check's 401 into the redirect to sign-in (error_page 401 =302).
      expect([what, r.status, r.location?.includes('/forward-auth/start')]).toEqual([
        what,
        302,
        true,
      ]);
    }
    b.setCookie('app1.test', COOKIE, genuine);
    expect((await b.get(`http://${app1}/`)).status).toBe(200);
  });

  it('refuses return URLs on foreign hosts (continue=, rd=), and a hand-off on another host or twice', async () => {
    const base = `${t.baseUrl}/${tenantId}/forward-auth`;
    for (const foreign of [
      'http://evil.test/',
      '//evil.test/x',
      'javascript:alert(1)',
      `http://user@${app1}/`,
    ]) {
      const vouch = await t.http(
        'GET',
        `/${tenantId}/forward-auth/vouch?forward=true&continue=${encodeURIComponent(foreign)}`,
        { key: null },
      );
      expect([foreign, vouch.status]).toEqual([foreign, 400]);
      const start = await fetch(`${base}/start?rd=${encodeURIComponent(foreign)}`, {
        redirect: 'manual',
      });
      expect([foreign, start.status]).toEqual([foreign, 400]);
    }
    // A protected app's URL is fine: 307 to sign-in (vouch), 303 to the provider (start).
    const ok = await t.http(
      'GET',
      `/${tenantId}/forward-auth/vouch?forward=true&continue=${encodeURIComponent(`http://${app2}/x`)}`,
      { key: null },
    );
    expect(ok.status).toBe(307);
    expect(ok.headers.get('location')).toContain(encodeURIComponent(`http://${app2}/x`));

    // The one-time hand-off: stop before it is used, replay it on the other host, then twice.
    const b = browser();
    let res = await b.get(`http://${app1}/page`);
    for (let i = 0; i < 20 && !res.location?.includes('/_idp/session'); i++) {
      if (res.status === 200) {
        const form = findForm(res.body, '/login');
        res = await b.post(new URL(form.action, res.url), {
          ...form.fields,
          login: 'alice',
          password: PASSWORD,
        });
      } else res = await b.get(res.location!);
    }
    const handoff = new URL(res.location!);
    expect(handoff.host).toBe(app1);
    const elsewhere = await b.get(`http://${app2}${handoff.pathname}${handoff.search}`);
    expect(elsewhere.status).toBe(400);
    expect(b.cookieFor(`http://${app2}/`, COOKIE)).toBeUndefined();
    expect((await b.get(handoff)).status).toBe(302);
    expect((await b.get(`http://${app1}/page`)).status).toBe(200);
    const fresh = browser();
    expect((await fresh.get(handoff)).status).toBe(400);
  });
});
