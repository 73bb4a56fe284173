import { createPublicKey } from 'node:crypto';
import { hasPrivateMembers } from '../../libs/crypto/keys.js';
import type { FieldError } from '../common/problem.js';
import type { ClientType } from './client.entity.js';

export const CLIENT_TYPES: ClientType[] = ['public', 'confidential'];

export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;

export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;

export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

/** Scopes the provider knows; a client may also name its own API scopes (CUSTOM_SCOPE). */
export const STANDARD_SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'roles',
  'groups',
  'tenant',
] as const;
export const CUSTOM_SCOPE = /^[a-z][a-z0-9:._-]*$/;
export const MAX_SCOPE_LENGTH = 64;

/** Unreserved URI characters only, so a client id is safe in paths, forms and Basic auth. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

export const MAX_URIS = 50;
export const MAX_URI_LENGTH = 2000;
export const MAX_JWKS_KEYS = 20;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** A private-use scheme must be a reverse domain name the app controls (RFC 8252 §7.1). */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/;

/** Everything about a client that an admin sets; what the rules below judge as a whole. */
export interface ClientSettings {
  name: string;
  client_type: ClientType;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  allowed_scopes: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  jwks: { keys: Array<Record<string, unknown>> } | null;
  jwks_uri: string | null;
  logo_uri: string | null;
  client_uri: string | null;
  policy_uri: string | null;
  tos_uri: string | null;
  client_logout_uri: string | null;
  frontchannel_logout_session_required: boolean;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  op_user_agreement_url: string | null;
  dpop_bound_access_tokens: boolean;
  register_enable: boolean;
  is_lock: boolean;
  is_group_restricted: boolean;
  first_party: boolean;
}

/** What a field left out of a create (or a PUT) becomes. */
export function clientDefaults(type: ClientType): Omit<ClientSettings, 'name' | 'client_type'> {
  return {
    redirect_uris: [],
    post_logout_redirect_uris: [],
    allowed_scopes: ['openid', 'profile', 'email'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: type === 'public' ? 'none' : 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    jwks: null,
    jwks_uri: null,
    logo_uri: null,
    client_uri: null,
    policy_uri: null,
    tos_uri: null,
    client_logout_uri: null,
    frontchannel_logout_session_required: false,
    backchannel_logout_uri: null,
    backchannel_logout_session_required: false,
    op_user_agreement_url: null,
    dpop_bound_access_tokens: false,
    register_enable: false,
    is_lock: false,
    is_group_restricted: false,
    first_party: false,
  };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** A page or document URL: https, or http on a loopback host for local development. */
export function webUriProblem(value: string): string | undefined {
  if (value.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  const url = parseUrl(value);
  if (!url) return 'must be an absolute URL';
  if (value.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';
  }
  return 'must use https';
}

/** Whether a redirect URI is a native app's private-use scheme (com.example.app:/cb). */
export function isCustomSchemeUri(value: string): boolean {
  const url = parseUrl(value);
  return !!url && url.protocol !== 'https:' && url.protocol !== 'http:';
}

/**
 * Redirect URIs are matched exactly, so they must be exact: absolute, no fragment, https
 * except on loopback hosts; public (native) clients may also use a reverse-domain scheme.
 */
export function redirectUriProblem(value: string, clientType: ClientType): string | undefined {
  if (value.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  const url = parseUrl(value);
  if (!url) return 'must be an absolute URI';
  if (value.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'https:' || url.protocol === 'http:') return webUriProblem(value);
  const scheme = url.protocol.slice(0, -1);
  if (clientType !== 'public') {
    return 'must use https (custom schemes are for public native clients only)';
  }
  if (!REVERSE_DOMAIN_SCHEME.test(scheme)) {
    return 'a custom scheme must be a reverse domain name, like com.example.app:/callback';
  }
  return undefined;
}

/** oidc-provider's application_type: native when the app receives redirects on its own scheme. */
export function applicationType(
  s: Pick<ClientSettings, 'redirect_uris' | 'post_logout_redirect_uris'>,
) {
  return [...s.redirect_uris, ...s.post_logout_redirect_uris].some(isCustomSchemeUri)
    ? 'native'
    : 'web';
}

export function scopeProblem(scope: string): string | undefined {
  if (scope.length > MAX_SCOPE_LENGTH) return `must be at most ${MAX_SCOPE_LENGTH} characters`;
  if ((STANDARD_SCOPES as readonly string[]).includes(scope)) return undefined;
  if (!CUSTOM_SCOPE.test(scope)) {
    return `must be one of ${STANDARD_SCOPES.join(', ')} or a custom scope matching ${CUSTOM_SCOPE.source}`;
  }
  return undefined;
}

/** A client's public keys for private_key_jwt: well-formed, asymmetric, public only. */
export function jwksProblems(jwks: unknown): FieldError[] {
  const field = 'jwks';
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks)) {
    return [{ field, message: 'must be a JSON Web Key Set: {"keys": [...]}' }];
  }
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    return [{ field: `${field}.keys`, message: 'must be a non-empty array of JWKs' }];
  }
  if (keys.length > MAX_JWKS_KEYS) {
    return [{ field: `${field}.keys`, message: `must hold at most ${MAX_JWKS_KEYS} keys` }];
  }
  const errors: FieldError[] = [];
  keys.forEach((key: unknown, i) => {
    const at = `${field}.keys[${i}]`;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      errors.push({ field: at, message: 'must be a JWK object' });
      return;
    }
    const jwk = key as Record<string, unknown>;
    if (!['RSA', 'EC', 'OKP'].includes(jwk.kty as string)) {
      errors.push({ field: `${at}.kty`, message: 'must be RSA, EC or OKP' });
      return;
    }
    if (hasPrivateMembers(jwk)) {
      errors.push({ field: at, message: 'must be a public key: private members are not accepted' });
      return;
    }
    for (const member of ['alg', 'kid', 'use']) {
      if (jwk[member] !== undefined && (typeof jwk[member] !== 'string' || !jwk[member])) {
        errors.push({ field: `${at}.${member}`, message: 'must be a non-empty string' });
      }
    }
    try {
      const parsed = createPublicKey({ key: jwk as never, format: 'jwk' });
      // JOSE libraries refuse shorter RSA keys for RS*/PS* (RFC 7518 §3.3).
      if (
        parsed.asymmetricKeyType === 'rsa' &&
        (parsed.asymmetricKeyDetails?.modulusLength ?? 0) < 2048
      ) {
        errors.push({ field: at, message: 'an RSA key must be at least 2048 bits' });
      }
    } catch {
      errors.push({ field: at, message: 'is not a valid public key' });
    }
  });
  return errors;
}

/**
 * Every rule a client's settings must keep, judged on the whole (after defaults, PUT or PATCH
 * merge), so no combination slips through one path and not another. Answers field errors.
 */
export function clientProblems(s: ClientSettings): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message });
  const isPublic = s.client_type === 'public';

  for (const [list, label] of [
    [s.redirect_uris, 'redirect_uris'],
    [s.post_logout_redirect_uris, 'post_logout_redirect_uris'],
  ] as const) {
    list.forEach((uri, i) => {
      const problem = redirectUriProblem(uri, s.client_type);
      if (problem) add(`${label}[${i}]`, problem);
    });
    if (new Set(list).size !== list.length) add(label, 'must not repeat a URI');
  }
  // oidc-provider treats a client with custom-scheme redirects as native, and native clients
  // may not claim https URIs on loopback hosts (RFC 8252 §7.3 wants http there).
  if (applicationType(s) === 'native') {
    for (const [list, label] of [
      [s.redirect_uris, 'redirect_uris'],
      [s.post_logout_redirect_uris, 'post_logout_redirect_uris'],
    ] as const) {
      list.forEach((uri, i) => {
        const url = parseUrl(uri);
        if (url?.protocol === 'https:' && LOOPBACK_HOSTS.has(url.hostname)) {
          add(
            `${label}[${i}]`,
            'a native client (custom-scheme redirects) must use http, not https, on loopback hosts',
          );
        }
      });
    }
  }

  if (s.grant_types.length === 0) add('grant_types', 'must name at least one grant type');
  if (new Set(s.grant_types).size !== s.grant_types.length)
    add('grant_types', 'must not repeat a grant type');
  if (s.grant_types.includes('authorization_code') && s.redirect_uris.length === 0) {
    add('redirect_uris', 'the authorization_code grant needs at least one redirect URI');
  }
  if (
    s.grant_types.includes('refresh_token') &&
    !s.grant_types.includes('authorization_code') &&
    !s.grant_types.includes('urn:ietf:params:oauth:grant-type:device_code')
  ) {
    add(
      'grant_types',
      'refresh_token needs authorization_code or the device code grant to obtain one',
    );
  }

  if (isPublic) {
    if (s.token_endpoint_auth_method !== 'none') {
      add('token_endpoint_auth_method', 'a public client cannot keep a secret: it must use none');
    }
    if (s.grant_types.includes('client_credentials')) {
      add('grant_types', 'a public client cannot use client_credentials');
    }
  } else if (s.token_endpoint_auth_method === 'none') {
    add(
      'token_endpoint_auth_method',
      'a confidential client must authenticate: none is for public clients',
    );
  }

  if (s.jwks !== null && s.jwks_uri !== null) add('jwks_uri', 'give jwks or jwks_uri, not both');
  if (
    s.token_endpoint_auth_method === 'private_key_jwt' &&
    s.jwks === null &&
    s.jwks_uri === null
  ) {
    add('jwks', 'private_key_jwt needs the client public keys: jwks or jwks_uri');
  }
  if (s.jwks !== null) errors.push(...jwksProblems(s.jwks));

  for (const field of [
    'jwks_uri',
    'logo_uri',
    'client_uri',
    'policy_uri',
    'tos_uri',
    'client_logout_uri',
    'backchannel_logout_uri',
    'op_user_agreement_url',
  ] as const) {
    const value = s[field];
    if (value !== null) {
      const problem = webUriProblem(value);
      if (problem) add(field, problem);
    }
  }

  s.allowed_scopes.forEach((scope, i) => {
    const problem = scopeProblem(scope);
    if (problem) add(`allowed_scopes[${i}]`, problem);
  });
  if (new Set(s.allowed_scopes).size !== s.allowed_scopes.length)
    add('allowed_scopes', 'must not repeat a scope');

  return errors;
}
