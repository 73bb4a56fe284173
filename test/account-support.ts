import * as client from 'openid-client';
import { generate } from 'otplib';
import { elapse, type TestApp } from './harness.js';
import { Browser, findForm, type BrowserResponse } from './oidc-support.js';
import { userToken } from './user-token-support.js';

import { PASSWORD, REDIRECT } from './fixtures.js';

export { PASSWORD, REDIRECT };

/** A code from an independent implementation (otplib), for the step `offset` away from now. */
export function totpCode(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

/**
 * Tests use the steps around now; starting right after a step boundary keeps them inside it.
 * A deliberate wait for wall-clock time (the next 30-second TOTP step), not for an event.
 */
export async function freshStep() {
  const into = (Date.now() / 1000) % 30;
  if (into > 24) await elapse((30 - into + 0.2) * 1000);
}

export interface Started {
  page: BrowserResponse;
  verifier: string;
  state: string;
  nonce: string;
}

/** Follows redirects until a page (200, 4xx) or the app's redirect URI. */
export async function follow(browser: Browser, res: BrowserResponse): Promise<BrowserResponse> {
  for (let hops = 0; hops < 10; hops++) {
    if (res.status !== 302 && res.status !== 303) return res;
    if (res.location!.startsWith(REDIRECT)) return res;
    res = await browser.get(res.location!);
  }
  throw new Error('too many redirects');
}

/** An authorization request up to the first hosted page. */
export async function startLogin(
  browser: Browser,
  config: client.Configuration,
  scope = 'openid profile',
): Promise<Started> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const page = await follow(browser, await browser.get(url));
  return { page, verifier, state, nonce };
}

/** Posts the form whose action contains `marker` with its hidden fields plus `fields`. */
export function submit(
  browser: Browser,
  page: BrowserResponse,
  marker: string,
  fields: Record<string, string> = {},
): Promise<BrowserResponse> {
  const form = findForm(page.html, marker);
  return browser.post(new URL(form.action, page.url), { ...form.fields, ...fields });
}

export async function passwordStep(
  browser: Browser,
  s: Started,
  username: string,
  password = PASSWORD,
) {
  return submit(browser, s.page, '/login', { login: username, password, method: 'password' });
}

/** Exchanges the code of a finished sign-in. */
export async function tokensOf(
  browser: Browser,
  config: client.Configuration,
  s: Started,
  res: BrowserResponse,
) {
  const done = await follow(browser, res);
  if (!done.location?.startsWith(REDIRECT))
    throw new Error(`not back at the app: ${done.status} ${done.url}\n${done.html.slice(0, 3000)}`);
  return client.authorizationCodeGrant(config, new URL(done.location), {
    pkceCodeVerifier: s.verifier,
    expectedState: s.state,
    expectedNonce: s.nonce,
  });
}

/**
 * The user's own access token from a fresh sign-in with PASSWORD: what the self-service API asks
 * for credential changes (an API key is refused there).
 */
export function selfToken(t: TestApp, tenantId: string, username = 'alice', password = PASSWORD) {
  return userToken(t, tenantId, username, password);
}

/** TOTP on for a user through the self-service API; answers the secret and recovery codes. */
export async function enrolTotp(t: TestApp, tenantId: string, key: string) {
  const base = `/api/v1/tenants/${tenantId}/me/totp`;
  const e = await t.http('POST', base, { key });
  if (e.status !== 201) throw new Error(`enrol: ${e.status} ${e.text}`);
  await freshStep();
  const c = await t.http('POST', `${base}/confirm`, {
    key,
    body: { code: await totpCode(e.body.secret) },
  });
  if (c.status !== 200) throw new Error(`confirm: ${c.status} ${c.text}`);
  return { secret: e.body.secret as string, recoveryCodes: c.body.recovery_codes as string[] };
}
