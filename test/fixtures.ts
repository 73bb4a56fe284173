import * as client from 'openid-client';
import { newTenant, uniqueTenantId, type TestApp } from './harness.js';
import {
  Browser,
  createClient,
  createTenant,
  createUser,
  discover,
  signIn,
} from './oidc-support.js';

/**
 * The shared fixtures of the e2e suites, built through the HTTP API like a real admin would:
 * a tenant (optionally with an admin key), a user, a registered client with its discovered
 * openid-client configuration, and a browser that went through the hosted sign-in. Each builder
 * takes the options a suite needs to differ in; `app()` composes the first three.
 */

export const PASSWORD = 'correct horse battery staple';
export const REDIRECT = 'http://127.0.0.1:9999/cb';

export interface TenantOptions {
  /** Prefix of the generated tenant id (or the id itself with `tenantId`). */
  prefix?: string;
  tenantId?: string;
  /** Tenant fields (display_name, limits, is_2fa, ...) sent on creation. */
  settings?: Record<string, unknown>;
  /** Scopes of an admin key for the tenant; without them, calls use the operator key. */
  scopes?: string[];
}

export interface TenantFixture {
  tenantId: string;
  /** The tenant's issuer URL (for discovery). */
  issuer: string;
  /** The admin key holding `scopes`, or the operator key when none were asked for. */
  key: string;
  keyId?: string;
}

export async function tenant(t: TestApp, o: TenantOptions = {}): Promise<TenantFixture> {
  const id = o.tenantId ?? uniqueTenantId(o.prefix);
  if (o.scopes) {
    const { tenantId, key, keyId } = await newTenant(t, o.scopes, o.settings, id);
    return { tenantId, key, keyId, issuer: `${t.baseUrl}/${tenantId}` };
  }
  await createTenant(t, id, o.settings);
  return { tenantId: id, key: t.operatorKey, issuer: `${t.baseUrl}/${id}` };
}

/** `alice-<tenant>@example.test`: an address no other tenant's user has. */
export const uniqueEmail = (tenantId: string, name = 'alice') => `${name}-${tenantId}@example.test`;

export interface UserOptions {
  username?: string;
  /** Defaults to alice@example.com; null creates the user without an address. */
  email?: string | null;
  password?: string;
  [field: string]: unknown;
}

/** A user (alice with PASSWORD unless told otherwise). */
export function user(t: TestApp, tenantId: string, o: UserOptions = {}) {
  const { email = 'alice@example.com', ...rest } = o;
  return createUser(t, tenantId, {
    username: 'alice',
    password: PASSWORD,
    ...(email === null ? {} : { email }),
    ...rest,
  });
}

/** A confidential web app with refresh tokens: the usual relying party of the OIDC suites. */
export const webApp = (redirectUri = REDIRECT, extra: Record<string, unknown> = {}) => ({
  client_type: 'confidential',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code', 'refresh_token'],
  allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
  ...extra,
});

/** The tenant's own (first-party, no consent) confidential app asking openid and profile. */
export const firstPartyApp = (redirectUri = REDIRECT, extra: Record<string, unknown> = {}) => ({
  client_type: 'confidential',
  redirect_uris: [redirectUri],
  allowed_scopes: ['openid', 'profile'],
  first_party: true,
  ...extra,
});

/** A registered client (`c`: client_id, client_secret) and its discovered configuration. */
export async function registeredClient(
  t: TestApp,
  tenantId: string,
  body: Record<string, unknown> = webApp(),
) {
  const c = await createClient(t, tenantId, body);
  const config = await discover(`${t.baseUrl}/${tenantId}`, c.client_id, c.client_secret);
  return { c, config };
}

export interface AppOptions extends TenantOptions {
  /** Builds in this tenant instead of creating one. */
  within?: TenantFixture;
  /** The user's fields; alice@example.com with PASSWORD by default. */
  user?: UserOptions;
  /** The client's full body (see webApp, firstPartyApp); webApp() by default. */
  client?: Record<string, unknown>;
}

/** A fresh tenant with one user and one client, discovered with openid-client. */
export async function app(t: TestApp, o: AppOptions = {}) {
  const tf = o.within ?? (await tenant(t, o));
  const u = await user(t, tf.tenantId, o.user);
  const { c, config } = await registeredClient(t, tf.tenantId, o.client);
  return { ...tf, user: u, c, config };
}

export interface SignInOptions {
  username?: string;
  password?: string;
  redirectUri?: string;
  scope?: string;
  extra?: Record<string, string>;
  consent?: boolean;
  par?: boolean;
  /** Signs in with this browser (keeping its cookies) instead of a new one. */
  browser?: Browser;
}

/**
 * A browser that went through the hosted sign-in (alice, PASSWORD, REDIRECT by default) and the
 * callback it came back with, PKCE verifier, state and nonce included.
 */
export async function signedIn(config: client.Configuration, o: SignInOptions = {}) {
  const browser = o.browser ?? new Browser();
  const s = await signIn(browser, config, {
    username: o.username ?? 'alice',
    password: o.password ?? PASSWORD,
    redirectUri: o.redirectUri ?? REDIRECT,
    scope: o.scope,
    extra: o.extra,
    consent: o.consent,
    par: o.par,
  });
  return { browser, ...s };
}

/** The code exchange of a finished sign-in, checking state and nonce. */
export function exchange(
  config: client.Configuration,
  s: { callback: URL; verifier: string; state: string; nonce: string },
) {
  return client.authorizationCodeGrant(config, s.callback, {
    pkceCodeVerifier: s.verifier,
    expectedState: s.state,
    expectedNonce: s.nonce,
  });
}
