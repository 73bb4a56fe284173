import * as client from 'openid-client';
import type { TestApp } from './harness.js';

/** Helpers shared by the OIDC suites: a cookie-keeping browser and API shortcuts. */

import { Browser, findForm, type BrowserResponse } from '../libs/testing/browser.js';

export { Browser, findForm, type BrowserResponse };

export async function createClient(
  t: TestApp,
  tenantId: string,
  body: Record<string, unknown>,
): Promise<{ client_id: string; client_secret?: string }> {
  const r = await t.http('POST', `/api/v1/tenants/${tenantId}/clients`, {
    body: { name: 'App', ...body },
  });
  if (r.status !== 201) throw new Error(`client create failed: ${r.status} ${r.text}`);
  return r.body;
}

export async function createUser(
  t: TestApp,
  tenantId: string,
  body: Record<string, unknown>,
): Promise<{ user_id: string; username: string }> {
  const r = await t.http('POST', `/api/v1/tenants/${tenantId}/users`, { body });
  if (r.status !== 201) throw new Error(`user create failed: ${r.status} ${r.text}`);
  return r.body;
}

export async function createTenant(
  t: TestApp,
  tenantId: string,
  settings: Record<string, unknown> = {},
) {
  const r = await t.http('POST', '/api/v1/tenants', {
    body: { tenant_id: tenantId, display_name: `Tenant ${tenantId}`, ...settings },
  });
  if (r.status !== 201) throw new Error(`tenant create failed: ${r.status} ${r.text}`);
}

/** openid-client over plain HTTP (the test server), as an app would configure it. */
export function discover(
  issuer: string,
  clientId: string,
  secret?: string,
  metadata: Partial<client.ClientMetadata> = {},
): Promise<client.Configuration> {
  return client.discovery(
    new URL(issuer),
    clientId,
    { ...metadata },
    secret ? client.ClientSecretBasic(secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
}

export interface SignIn {
  callback: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * Starts an authorization request and walks the hosted pages like a user: login form, then the
 * consent page if one comes. Answers the redirect back to the app.
 */
export async function signIn(
  browser: Browser,
  config: client.Configuration,
  opts: {
    username: string;
    password: string;
    scope?: string;
    redirectUri: string;
    extra?: Record<string, string>;
    consent?: boolean;
    par?: boolean;
  },
): Promise<SignIn> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = {
    redirect_uri: opts.redirectUri,
    scope: opts.scope ?? 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...opts.extra,
  };
  const url = opts.par
    ? await client.buildAuthorizationUrlWithPAR(config, params)
    : client.buildAuthorizationUrl(config, params);
  let res = await browser.get(url);
  for (let hops = 0; hops < 10; hops++) {
    if (res.status !== 303 && res.status !== 302) {
      throw new Error(
        `unexpected ${res.status} at ${res.url}:\n${res.html.replace(/<style>[\s\S]*?<\/style>/g, '').slice(0, 2000)}`,
      );
    }
    const next = new URL(res.location!);
    if (next.href.startsWith(opts.redirectUri)) return { callback: next, verifier, state, nonce };
    res = await browser.get(next);
    if (res.status === 200 && next.pathname.includes('/interaction/')) {
      if (res.html.includes('name="password"')) {
        const form = findForm(res.html, '/login');
        res = await browser.post(new URL(form.action, next), {
          ...form.fields,
          login: opts.username,
          password: opts.password,
        });
      } else if (res.html.includes('/consent')) {
        if (opts.consent === false) throw new Error('consent page shown');
        const form = findForm(res.html, '/consent');
        res = await browser.post(new URL(form.action, next), form.fields);
      }
    }
  }
  throw new Error('too many redirects');
}

/** The OAuth error code of a failed openid-client call (body error or WWW-Authenticate challenge). */
export async function oauthError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { error?: string; cause?: unknown };
    if (typeof e.error === 'string') return e.error;
    if (Array.isArray(e.cause)) {
      const c = e.cause[0] as { parameters?: { error?: string } };
      if (c?.parameters?.error) return c.parameters.error;
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}
