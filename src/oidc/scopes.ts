import { ACCOUNT_TOKEN_SCOPES } from '../auth/scopes.js';

/**
 * Claims by scope; `tenant_id` rides with `openid` so every token names its realm, and so does
 * the authentication context (`acr`, `amr`, `auth_time`), which only the ID token carries.
 */
export const CLAIMS_BY_SCOPE = {
  openid: ['sub', 'tenant_id', 'acr', 'amr', 'auth_time'],
  tenant: ['tenant_id'],
  profile: [
    'name',
    'preferred_username',
    'locale',
    'given_name',
    'family_name',
    'updated_at',
    'created_at',
    'picture',
  ],
  email: ['email', 'email_verified'],
  roles: ['roles'],
  groups: ['groups'],
};

/**
 * Scopes the provider itself knows; any other scope a client holds is an API scope. `account`
 * and `account:credentials` let the user's own access token call the self-service API (/me).
 */
export const PROVIDER_SCOPES = [
  'offline_access',
  ...Object.keys(CLAIMS_BY_SCOPE),
  ...Object.keys(ACCOUNT_TOKEN_SCOPES),
];
