import { Browser, findForm } from '../libs/testing/browser.js';
import { PASSWORD } from './fixtures.js';
import type { TestApp } from './harness.js';

/**
 * Signs `username` in for the protected app URL `rd` without a proxy: the hosted sign-in on the
 * identity server, then the hand-off asked for as the app host's proxy would ask for it.
 * Answers the forward-auth cookie value and the hand-off token.
 */
export async function forwardSignIn(
  t: TestApp,
  tenantId: string,
  rd: string,
  username: string,
  browser = new Browser(),
): Promise<{ cookie: string; token: string; browser: Browser; setCookie: string[] }> {
  const appHost = new URL(rd).host;
  let res = await browser.get(
    `${t.baseUrl}/${tenantId}/forward-auth/start?rd=${encodeURIComponent(rd)}`,
  );
  for (let hops = 0; hops < 20; hops++) {
    if (res.location && new URL(res.location).host === appHost) break;
    if (res.status === 200 && res.html.includes('name="password"')) {
      const form = findForm(res.html, '/login');
      res = await browser.post(new URL(form.action, res.url), {
        ...form.fields,
        login: username,
        password: PASSWORD,
      });
    } else if (res.location) res = await browser.get(res.location);
    else throw new Error(`stuck at ${res.status} ${res.url}: ${res.html.slice(0, 500)}`);
  }
  const handoff = new URL(res.location!);
  const token = handoff.searchParams.get('token')!;
  const setCookie: string[] = [];
  const cookie = await handoffCookie(t, tenantId, token, appHost, setCookie);
  return { cookie, token, browser, setCookie };
}

/** The hand-off as the app host's proxy forwards it: answers the cookie it sets. */
export async function handoffCookie(
  t: TestApp,
  tenantId: string,
  token: string,
  host: string,
  setCookies: string[] = [],
): Promise<string> {
  const r = await fetch(
    `${t.baseUrl}/${tenantId}/forward-auth/session?token=${encodeURIComponent(token)}`,
    { headers: { 'x-forwarded-host': host, 'x-forwarded-proto': 'http' }, redirect: 'manual' },
  );
  if (r.status !== 302) throw new Error(`hand-off: ${r.status} ${await r.text()}`);
  setCookies.push(...r.headers.getSetCookie());
  const set = r.headers.getSetCookie().find((c) => c.startsWith('idp_forward_auth='));
  return set!.split(';')[0].slice('idp_forward_auth='.length);
}

/** The headers Traefik sends with its forwardAuth request for `url`. */
export function traefikHeaders(url: string, extra: Record<string, string> = {}) {
  const u = new URL(url);
  return {
    'x-forwarded-method': 'GET',
    'x-forwarded-proto': u.protocol.slice(0, -1),
    'x-forwarded-host': u.host,
    'x-forwarded-uri': u.pathname + u.search,
    ...extra,
  };
}
