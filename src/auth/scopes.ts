/** Every scope an API key or token can carry, with what it grants. */
export const SCOPES: Record<string, string> = {
  'tenants:read': 'Read tenant settings',
  'tenants:write': 'Change tenant settings',
  'users:read': 'Read users of the tenant',
  'users:write': 'Create, change and delete users, set passwords',
  'groups:read': 'Read groups and memberships',
  'groups:write': 'Create, change and delete groups and memberships',
  'clients:read': 'Read OIDC clients',
  'clients:write': 'Create, change and delete OIDC clients and their secrets',
  'signing-keys:read': 'Read signing key metadata (never private parts)',
  'signing-keys:write': 'Rotate signing keys',
  'api-keys:read': 'Read API keys (never their values)',
  'api-keys:write': 'Create, regenerate and delete API keys (only with scopes the caller holds)',
  'blocker:read': 'Read blocked IP addresses and usernames',
  'blocker:write': 'Unblock IP addresses and usernames',
  'audit:read': 'Read and export the audit log',
  'analytics:read': 'Read login analytics',
  'protected-apps:read': 'Read the apps protected by forward-auth',
  'protected-apps:write': 'Create, change and delete apps protected by forward-auth',
  'upstream-providers:read': 'Read the upstream identity providers (never their client secrets)',
  'upstream-providers:write': 'Create, change and delete upstream identity providers',
  scim: 'Provision users and groups through SCIM 2.0',
  'me:read': "Read the caller's own account (user keys and the user's own tokens)",
  'me:write': "Change the caller's own account: end its sessions",
  'me:credentials':
    "Enrol or remove the caller's own passkeys, TOTP and email; only the user's own token from a recent sign-in carries it (OIDC scope account:credentials)",
  operator: 'Everything, in every tenant (platform operators only)',
};

export type Scope = keyof typeof SCOPES & string;
export const ALL_SCOPES = Object.keys(SCOPES);
/** Never carried by an API key: an admin-minted key must not enrol credentials for a user. */
export const TOKEN_ONLY_SCOPES = ['me:credentials'];
/** What a user may put on a key of their own (self-service, /me/api-keys). */
export const USER_KEY_SCOPES = ['me:read', 'me:write'];
export const TENANT_SCOPES = ALL_SCOPES.filter(
  (s) => s !== 'operator' && !TOKEN_ONLY_SCOPES.includes(s),
);

/**
 * OIDC scopes a client may ask for on behalf of a user to call the self-service API with the
 * user's own access token, and the API scopes each one grants.
 */
export const ACCOUNT_TOKEN_SCOPES: Record<string, string[]> = {
  account: ['me:read', 'me:write'],
  'account:credentials': ['me:credentials'],
};

export type Holder = 'operator' | 'tenant' | 'user';

/** Who is calling, resolved once per request by the auth guard. */
export interface Principal {
  holder: Holder;
  /** The API key id, or the token's id for token principals. */
  credentialId: string;
  /** null for operator keys, which reach every tenant. */
  tenantId: string | null;
  userId: string | null;
  scopes: ReadonlySet<string>;
  /** 'token' for the user's own OIDC access token; API keys otherwise. */
  via?: 'key' | 'token';
  /** For tokens: when the user signed in (seconds since the epoch), if known. */
  authTime?: number;
  /** For tokens bound to a sign-in session: that session's uid (POST /me/logout ends it). */
  sessionUid?: string;
}

/** `operator` grants everything; `x:write` implies `x:read`. */
export function hasScope(principal: Principal, scope: string): boolean {
  if (principal.scopes.has('operator') || principal.scopes.has(scope)) return true;
  if (scope.endsWith(':read')) return principal.scopes.has(scope.replace(/:read$/, ':write'));
  return false;
}
