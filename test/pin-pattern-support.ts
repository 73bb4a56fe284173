import * as opaque from '@serenity-kit/opaque';
import * as client from 'openid-client';
import type { TestApp, TestResponse } from './harness.js';
import { Browser, type BrowserResponse } from './oidc-support.js';
import { KEY_STRETCHING, PROTO_VERSION } from '../src/pin-pattern/pin-pattern-policy.js';

/**
 * The OPAQUE client library playing the hosted page's script: registration and sign-in
 * against `/<t>/authn/zkp`, and the start of an authorisation whose interaction a nonce finishes.
 */
export { opaque };

const json = (t: TestApp, path: string, body: unknown, key: string | null = null) =>
  t.http('POST', path, { body, key });

/** Sign-up with `password` (secretOf's output) through register/start and register. */
export async function registerWithPin(
  t: TestApp,
  tenantId: string,
  user: { username: string; email: string },
  password: string,
) {
  await opaque.ready;
  const start = opaque.client.startRegistration({ password });
  const r1 = await json(t, `/${tenantId}/authn/zkp/register/start`, {
    ...user,
    registration_request: start.registrationRequest,
  });
  if (r1.status !== 200) return r1;
  const done = opaque.client.finishRegistration({
    clientRegistrationState: start.clientRegistrationState,
    registrationResponse: r1.body.registration_response,
    password,
    keyStretching: KEY_STRETCHING,
  });
  return json(t, `/${tenantId}/authn/zkp/register`, {
    ...user,
    encrypted_commitment: done.registrationRecord,
    proto_version: PROTO_VERSION,
  });
}

export interface PinSignIn {
  /** The challenge call's answer. */
  challenge: TestResponse;
  /** False when the client could not finish (a wrong PIN or an unknown user): no authenticate sent. */
  finished: boolean;
  authenticate?: TestResponse;
}

/** challenge → client.finishLogin → authenticate, as the page does. */
export async function pinSignIn(
  t: TestApp,
  tenantId: string,
  username: string,
  password: string,
  authReqId?: string,
  headers: Record<string, string> = {},
): Promise<PinSignIn> {
  await opaque.ready;
  const q = authReqId ? `?auth_req_id=${encodeURIComponent(authReqId)}` : '';
  const start = opaque.client.startLogin({ password });
  const challenge = await t.http('POST', `/${tenantId}/authn/zkp/challenge${q}`, {
    key: null,
    headers,
    body: { username, cipherKey: start.startLoginRequest },
  });
  if (challenge.status !== 200) return { challenge, finished: false };
  const done = opaque.client.finishLogin({
    clientLoginState: start.clientLoginState,
    loginResponse: challenge.body.challenge_data,
    password,
    keyStretching: KEY_STRETCHING,
  });
  if (!done) return { challenge, finished: false };
  const authenticate = await t.http('POST', `/${tenantId}/authn/zkp/authenticate${q}`, {
    key: null,
    headers,
    body: {
      username,
      cipherKey: start.startLoginRequest,
      challenge_id: challenge.body.challenge_id,
      challenge_data: done.finishLoginRequest,
    },
  });
  return { challenge, finished: true, authenticate };
}

/** An authorisation request started in `browser`, stopped at the hosted login page. */
export async function startAuthorization(
  browser: Browser,
  config: client.Configuration,
  redirectUri: string,
  scope = 'openid profile',
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const first = await browser.get(url);
  if (!first.location) throw new Error(`no redirect to the login page: ${first.status}`);
  const loginUrl = new URL(first.location);
  const page = await browser.get(loginUrl);
  const uid = /\/interaction\/([^/?#]+)/.exec(loginUrl.pathname)?.[1];
  if (!uid) throw new Error(`not an interaction: ${loginUrl.href}`);
  return { uid, page, verifier, state, nonce };
}

/** Follows redirects from `res` until the app's redirect URI (or a page) is reached. */
export async function follow(
  browser: Browser,
  res: BrowserResponse,
  redirectUri: string,
): Promise<{ callback?: URL; last: BrowserResponse }> {
  for (let hops = 0; hops < 10; hops++) {
    if ((res.status !== 303 && res.status !== 302) || !res.location) return { last: res };
    if (res.location.startsWith(redirectUri)) return { callback: new URL(res.location), last: res };
    res = await browser.get(res.location);
  }
  throw new Error('too many redirects');
}

/** Sets or changes the caller's PIN/pattern with their own access token (change/start, change). */
export async function changePin(t: TestApp, tenantId: string, token: string, password: string) {
  await opaque.ready;
  const headers = { authorization: `Bearer ${token}` };
  const start = opaque.client.startRegistration({ password });
  const r1 = await t.http('POST', `/${tenantId}/authn/zkp/change/start`, {
    key: null,
    headers,
    body: { registration_request: start.registrationRequest },
  });
  if (r1.status !== 200) return r1;
  const done = opaque.client.finishRegistration({
    clientRegistrationState: start.clientRegistrationState,
    registrationResponse: r1.body.registration_response,
    password,
    keyStretching: KEY_STRETCHING,
  });
  return t.http('POST', `/${tenantId}/authn/zkp/change`, {
    key: null,
    headers,
    body: { encrypted_commitment: done.registrationRecord, proto_version: PROTO_VERSION },
  });
}

/** aux-challenge → client.finishLogin → aux-authenticate, for a signed-in user. */
export async function auxProof(t: TestApp, tenantId: string, token: string, password: string) {
  await opaque.ready;
  const headers = { authorization: `Bearer ${token}` };
  const start = opaque.client.startLogin({ password });
  const c = await t.http('POST', `/${tenantId}/authn/zkp/aux-challenge`, {
    key: null,
    headers,
    body: { cipherKey: start.startLoginRequest },
  });
  if (c.status !== 200) return c;
  const done = opaque.client.finishLogin({
    clientLoginState: start.clientLoginState,
    loginResponse: c.body.challenge_data,
    password,
    keyStretching: KEY_STRETCHING,
  });
  return t.http('POST', `/${tenantId}/authn/zkp/aux-authenticate`, {
    key: null,
    headers,
    body: {
      challenge_id: c.body.challenge_id,
      // A wrong PIN cannot finish: send what a forger would.
      challenge_data: done?.finishLoginRequest ?? c.body.challenge_data.slice(0, 256),
    },
  });
}
