import * as client from 'openid-client';
import type { TestApp } from './harness.js';
import { Browser, createClient, discover, signIn } from './oidc-support.js';

/** Everything the self-service API accepts from a user's own token. */
export const ACCOUNT_SCOPE = 'openid account account:credentials';
const REDIRECT = 'http://127.0.0.1:9999/account-app/cb';

/** One app per tenant asking for the account scopes, as a self-service front end would. */
const apps = new WeakMap<TestApp, Map<string, Promise<client.Configuration>>>();

function accountApp(t: TestApp, tenantId: string): Promise<client.Configuration> {
  let byTenant = apps.get(t);
  if (!byTenant) apps.set(t, (byTenant = new Map()));
  let app = byTenant.get(tenantId);
  if (!app) {
    app = (async () => {
      const c = await createClient(t, tenantId, {
        name: 'Account app',
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'account', 'account:credentials', 'offline_access'],
        first_party: true,
      });
      return discover(`${t.baseUrl}/${tenantId}`, c.client_id, c.client_secret);
    })();
    byTenant.set(tenantId, app);
  }
  return app;
}

/**
 * A real sign-in at the hosted page (password) by an app holding the account scopes: the token
 * response, and the app's configuration (to refresh with).
 */
export async function userSignIn(
  t: TestApp,
  tenantId: string,
  username: string,
  password: string,
  scope = ACCOUNT_SCOPE,
) {
  const config = await accountApp(t, tenantId);
  const s = await signIn(new Browser(), config, {
    username,
    password,
    scope,
    redirectUri: REDIRECT,
  });
  const tokens = await client.authorizationCodeGrant(config, s.callback, {
    pkceCodeVerifier: s.verifier,
    expectedState: s.state,
    expectedNonce: s.nonce,
  });
  return { config, tokens };
}

/**
 * The user's own access token from a fresh sign-in: what the self-service API asks for
 * credential changes.
 */
export async function userToken(
  t: TestApp,
  tenantId: string,
  username: string,
  password: string,
  scope = ACCOUNT_SCOPE,
): Promise<string> {
  return (await userSignIn(t, tenantId, username, password, scope)).tokens.access_token;
}
