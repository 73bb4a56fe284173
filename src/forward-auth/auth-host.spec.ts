import { hostRoute } from './auth-host.js';

describe('auth-host routes', () => {
  it('names the sign-in UI, the restricted passkey ceremonies, and leaves the API alone', () => {
    for (const ui of [
      '/acme/authorize?client_id=x',
      '/acme/authorize/abc',
      '/acme/interaction/abc',
      '/acme/login/forgot',
      '/acme/account',
      '/acme/account/callback?code=x',
      '/acme/logout',
      '/acme/device-link/abc',
      '/acme/forward-auth/start?rd=x',
      '/acme/forward-auth/callback?state=x',
    ])
      expect([ui, hostRoute(ui)]).toEqual([ui, { kind: 'ui', tenantId: 'acme' }]);
    for (const restricted of [
      '/acme/interaction/abc/login/passkey-options',
      '/acme/account/passkeys/options',
      '/acme/account/passkeys/register',
      '/acme/signup/passkey-options',
      '/acme/signup/passkey',
      '/acme/device-link/abc/options',
    ])
      expect([restricted, hostRoute(restricted)]).toEqual([
        restricted,
        { kind: 'restricted', tenantId: 'acme' },
      ]);
    for (const api of [
      '/acme/forward-auth',
      '/acme/forward-auth/verify',
      '/acme/forward-auth/proxy/validate',
      '/acme/forward-auth/session?token=x',
      '/acme/forward-auth/logout',
      '/acme/token',
      '/acme/.well-known/openid-configuration',
      '/acme/scim/v2/Users',
      '/acme/authn/zkp/x',
      '/acme/accounts',
      '/api/v1/tenants/acme/account',
      '/health',
    ])
      expect([api, hostRoute(api)]).toEqual([api, undefined]);
  });
});
