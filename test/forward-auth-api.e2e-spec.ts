import { createRemoteJWKSet, jwtVerify } from 'jose';
import { deriveTenantKey } from '../libs/crypto/index.js';
import { sign } from '../src/forward-auth/forward-cookie.js';
import { tenant, user } from './fixtures.js';
import { forwardSignIn, traefikHeaders } from './forward-auth-support.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

const apps = (tid: string) => `/api/v1/tenants/${tid}/protected-apps`;
const COOKIE = 'idp_forward_auth';

/** The protected-apps API and the check's conventions, asked directly as a proxy would. */
describe('forward-auth: protected apps API and check conventions', () => {
  let t: TestApp;
  let tenantId: string;
  let aliceId: string;

  beforeAll(async () => {
    t = await startTestApp();
    ({ tenantId } = await tenant(t, { prefix: 'faapi' }));
    aliceId = (await user(t, tenantId, { username: 'alice' })).user_id;
  });
  afterAll(() => t.close());

  const check = (path: string, headers: Record<string, string>) =>
    fetch(`${t.baseUrl}/${tenantId}/forward-auth${path}`, { headers, redirect: 'manual' });

  it('creates, lists (paginated), reads, changes and deletes protected apps with protected-apps scopes', async () => {
    const { tenantId: tid, key } = await newTenant(t, ['protected-apps:write']);
    const { key: reader } = await (async () => {
      const k = await t.http('POST', `/api/v1/tenants/${tid}/api-keys`, {
        body: { name: 'reader', scopes: ['protected-apps:read'] },
      });
      return { key: k.body.api_key as string };
    })();
    const created = [];
    for (const n of [1, 2, 3]) {
      const r = await t.http('POST', apps(tid), {
        key,
        body: { name: `App ${n}`, hosts: [`app${n}.example.com`] },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        name: `App ${n}`,
        hosts: [`app${n}.example.com`],
        path_prefix: '/',
        allowed_group_ids: [],
        jwt_header: false,
        session_lifetime: 43200,
        idle_timeout: null,
        require_2fa: false,
        cookie_domain: null,
      });
      created.push(r.body.app_id as string);
    }
    const page = await t.http('GET', `${apps(tid)}?limit=2&sort_direction=1`, { key: reader });
    expect(page.status).toBe(200);
    expect(page.body.total_count).toBe(3);
    expect(page.body.has_next).toBe(true);
    expect(page.body.data.map((a: { app_id: string }) => a.app_id)).toEqual(created.slice(0, 2));
    expect(
      (
        await t.http('POST', apps(tid), {
          key: reader,
          body: { name: 'x', hosts: ['x.example.com'] },
        })
      ).status,
    ).toBe(403);
    const patched = await t.http('PATCH', `${apps(tid)}/${created[0]}`, {
      key,
      body: { require_2fa: true, headers: { user: 'X-User' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      require_2fa: true,
      headers: { user: 'X-User' },
      name: 'App 1',
    });
    const put = await t.http('PUT', `${apps(tid)}/${created[0]}`, {
      key,
      body: { name: 'Renamed', hosts: ['app1.example.com'] },
    });
    expect(put.body).toMatchObject({ name: 'Renamed', require_2fa: false });
    expect((await t.http('GET', `${apps(tid)}/${created[0]}`, { key: reader })).body.name).toBe(
      'Renamed',
    );
    expect((await t.http('DELETE', `${apps(tid)}/${created[0]}`, { key })).status).toBe(204);
    expect((await t.http('GET', `${apps(tid)}/${created[0]}`, { key })).status).toBe(404);
    // Another tenant's key sees none of it.
    const other = await newTenant(t, ['protected-apps:write']);
    expect((await t.http('GET', `${apps(tid)}/${created[1]}`, { key: other.key })).status).toBe(
      404,
    );
    expect((await t.http('GET', apps(tid), { key: other.key })).status).toBe(404);
  });

  it('refuses bad apps with problems: host syntax, taken hosts, unknown groups, a cookie domain above no host', async () => {
    const { tenantId: tid } = await tenant(t, { prefix: 'faval' });
    const post = (body: Record<string, unknown>) => t.http('POST', apps(tid), { body });
    expect((await post({ name: 'a', hosts: ['a.example.com'] })).status).toBe(201);
    const bad = [
      { name: 'b', hosts: ['Not A Host'] },
      { name: 'b', hosts: [] },
      {
        name: 'b',
        hosts: ['b.example.com'],
        allowed_group_ids: ['00000000-0000-4000-8000-000000000000'],
      },
      { name: 'b', hosts: ['b.example.com'], cookie_domain: 'other.org' },
      { name: 'b', hosts: ['b.example.com'], session_lifetime: 10 },
      { name: 'b', hosts: ['b.example.com'], session_lifetime: 600, idle_timeout: 3600 },
    ];
    for (const body of bad) {
      const r = await post(body);
      expect([body, r.status]).toEqual([body, 400]);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    const taken = await post({ name: 'b', hosts: ['a.example.com'] });
    expect(taken.status).toBe(409);
    // Same host under another path prefix is another app.
    expect(
      (await post({ name: 'c', hosts: ['a.example.com'], path_prefix: '/admin' })).status,
    ).toBe(201);
    expect(
      (await post({ name: 'd', hosts: ['d.apps.example.com'], cookie_domain: 'apps.example.com' }))
        .status,
    ).toBe(201);
  });

  it('answers each convention for an anonymous request: 302/401 (check), 401 (verify, proxy, vouch), 307 (vouch forward)', async () => {
    await t.http('POST', apps(tenantId), { body: { name: 'Open', hosts: ['open.example.com'] } });
    const url = 'http://open.example.com/docs?a=1';
    const browser = await check('', traefikHeaders(url, { accept: 'text/html' }));
    expect(browser.status).toBe(302);
    const signin = new URL(browser.headers.get('location')!);
    expect(signin.pathname).toBe(`/${tenantId}/forward-auth/start`);
    expect(signin.searchParams.get('rd')).toBe(url);
    const api = await check('', traefikHeaders(url, { accept: 'application/json' }));
    expect(api.status).toBe(401);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    expect(api.headers.get('location')).toBe(signin.href);
    for (const path of ['/verify', '/proxy', '/vouch'])
      expect([
        path,
        (await check(path, traefikHeaders(url, { accept: 'text/html' }))).status,
      ]).toEqual([path, 401]);
    const vouch = await check('/vouch?forward=true', traefikHeaders(url));
    expect(vouch.status).toBe(307);
    // nginx's X-Original-URL works the same.
    const nginx = await check('/verify', { 'x-original-url': url });
    expect(nginx.status).toBe(401);
    expect(nginx.headers.get('location')).toBe(signin.href);
    // Not a protected host: 403; no forwarded headers at all: 400; no such tenant: 404.
    expect((await check('', traefikHeaders('http://elsewhere.example.com/'))).status).toBe(403);
    expect((await check('', {})).status).toBe(400);
    const none = await fetch(`${t.baseUrl}/no-such-tenant-fa/forward-auth`, {
      headers: traefikHeaders(url),
    });
    expect(none.status).toBe(404);
  });

  it('with the cookie: identity headers in every convention, a verifiable JWT, validate, set-session and logout', async () => {
    const created = await t.http('POST', apps(tenantId), {
      body: {
        name: 'Tokens',
        hosts: ['jwt.example.com'],
        jwt_header: true,
        headers: { user: 'X-Forwarded-User' },
      },
    });
    const url = 'http://jwt.example.com/x';
    const { cookie, browser } = await forwardSignIn(t, tenantId, url, 'alice');
    const h = traefikHeaders(url, { cookie: `${COOKIE}=${cookie}` });
    const ok = await check('', h);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-forwarded-user')).toBe('alice');
    expect(ok.headers.get('remote-id')).toBe(aliceId);
    const jwt = ok.headers.get('authorization')!.replace(/^Bearer /, '');
    const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/${tenantId}/jwks`));
    const { payload } = await jwtVerify(jwt, jwks, {
      issuer: `${t.baseUrl}/${tenantId}`,
      audience: created.body.app_id,
    });
    expect(payload).toMatchObject({ sub: aliceId, preferred_username: 'alice' });
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(60);
    expect((await check('/verify', h)).status).toBe(200);
    const proxy = await check('/proxy', h);
    expect(proxy.status).toBe(204);
    expect(proxy.headers.get('x-forwarded-user')).toBe('alice');
    const vouch = await check('/vouch', h);
    expect(await vouch.json()).toEqual({ success: true });
    const validate = await fetch(`${t.baseUrl}/${tenantId}/forward-auth/proxy/validate`, {
      method: 'POST',
      headers: { cookie: `${COOKIE}=${cookie}` },
    });
    expect(validate.status).toBe(200);
    expect(await validate.json()).toMatchObject({
      valid: true,
      user_id: aliceId,
      username: 'alice',
    });
    // set-session: a fresh hand-off token as Bearer sets the cookie (once).
    const again = await forwardSignIn(t, tenantId, url, 'alice', browser);
    const set = await fetch(`${t.baseUrl}/${tenantId}/forward-auth/proxy/set-session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${again.token}`, 'x-forwarded-host': 'jwt.example.com' },
    });
    expect(set.status).toBe(401); // the token was used by forwardSignIn already
    // logout ends the session: the cookie is refused from then on.
    const out = await fetch(`${t.baseUrl}/${tenantId}/forward-auth/proxy/logout`, {
      method: 'POST',
      headers: { cookie: `${COOKIE}=${cookie}` },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().some((c) => c.startsWith(`${COOKIE}=;`))).toBe(true);
    expect((await check('', h)).status).toBe(401);
    expect(
      (await check('', traefikHeaders(url, { cookie: `${COOKIE}=${again.cookie}` }))).status,
    ).toBe(401);
  });

  it('set-session takes an unused hand-off; a second factor requirement answers 403 to a password-only sign-in', async () => {
    await t.http('POST', apps(tenantId), {
      body: { name: 'Strict', hosts: ['strict.example.com'], require_2fa: true },
    });
    const url = 'http://strict.example.com/';
    const { Browser } = await import('../libs/testing/browser.js');
    // Stop before the hand-off: sign in, take the token from the redirect.
    const b = new Browser();
    const signed = await forwardSignIn(t, tenantId, url, 'alice', b);
    const second = await (async () => {
      let res = await b.get(
        `${t.baseUrl}/${tenantId}/forward-auth/start?rd=${encodeURIComponent(url)}`,
      );
      while (res.location && !res.location.startsWith('http://strict.example.com'))
        res = await b.get(res.location);
      return new URL(res.location!).searchParams.get('token')!;
    })();
    const set = await fetch(`${t.baseUrl}/${tenantId}/forward-auth/proxy/set-session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${second}`, 'x-forwarded-host': 'strict.example.com' },
    });
    expect(set.status).toBe(204);
    const cookie = set.headers.getSetCookie()[0].split(';')[0].split('=')[1];
    const r = await check('', traefikHeaders(url, { cookie: `${COOKIE}=${cookie}` }));
    expect(r.status).toBe(403);
    expect(((await r.json()) as { reason: string }).reason).toBe('second_factor_required');
    expect(signed.cookie).toBeTruthy();
  });

  it('idle timeout and session lifetime: a stale cookie is refused, a due one is renewed; parent-domain cookies', async () => {
    await t.http('POST', apps(tenantId), {
      body: {
        name: 'Idle',
        hosts: ['idle.example.com'],
        idle_timeout: 300,
        session_lifetime: 3600,
      },
    });
    const url = 'http://idle.example.com/';
    const { cookie } = await forwardSignIn(t, tenantId, url, 'alice');
    const payload = JSON.parse(Buffer.from(cookie.split('.')[0], 'base64url').toString());
    const key = deriveTenantKey(t.config.masterKey, { tenantId, purpose: 'forward-auth-cookies' });
    const now = Math.floor(Date.now() / 1000);
    const ask = (p: Record<string, unknown>) =>
      check('', traefikHeaders(url, { cookie: `${COOKIE}=${sign(key, p)}` }));
    // Idle for longer than idle_timeout: refused.
    expect((await ask({ ...payload, seen: now - 301 })).status).toBe(401);
    // Issued longer ago than the app's session_lifetime: refused, even if the cookie says later.
    expect((await ask({ ...payload, iat: (now - 3601) * 1000, exp: now + 600 })).status).toBe(401);
    // Seen two minutes ago: allowed, and the cookie comes back renewed.
    const renewed = await ask({ ...payload, seen: now - 120 });
    expect(renewed.status).toBe(200);
    const set = renewed.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    const again = JSON.parse(
      Buffer.from(set.split(';')[0].split('=')[1].split('.')[0], 'base64url').toString(),
    );
    expect(again.seen).toBeGreaterThanOrEqual(now);
    // Just signed in: no renewal.
    expect(
      (
        await check('', traefikHeaders(url, { cookie: `${COOKIE}=${cookie}` }))
      ).headers.getSetCookie(),
    ).toEqual([]);

    // Parent-domain mode: the hand-off sets the cookie for the whole domain.
    await t.http('POST', apps(tenantId), {
      body: {
        name: 'Suite',
        hosts: ['one.apps.example.com', 'two.apps.example.com'],
        cookie_domain: 'apps.example.com',
      },
    });
    const suite = await forwardSignIn(t, tenantId, 'http://one.apps.example.com/', 'alice');
    const line = suite.setCookie.find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(line).toContain('Domain=apps.example.com');
    expect(line).toContain('HttpOnly');
    expect(
      (
        await check(
          '',
          traefikHeaders('http://two.apps.example.com/', { cookie: `${COOKIE}=${suite.cookie}` }),
        )
      ).status,
    ).toBe(200);
  });
});
