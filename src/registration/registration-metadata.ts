import { isDomainError } from '../common/domain-error.js';
import type { ClientDto } from '../clients/dto/client.dto.js';
import type { DynamicRegistration } from '../tenants/tenant-settings.js';

/** An RFC 7591 §3.2.2 error (or RFC 6750 `invalid_token`), answered as OAuth JSON, not a problem. */
export class RegistrationError extends Error {
  constructor(
    readonly error: 'invalid_redirect_uri' | 'invalid_client_metadata' | 'invalid_token',
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }

  /** A refusal of the client rules (ClientsService) in RFC 7591 terms; anything else as is. */
  static from(err: unknown): unknown {
    if (!isDomainError(err) || (err.kind !== 'invalid' && err.kind !== 'conflict')) return err;
    const first = err.fields?.[0];
    const description = first ? `${first.field}: ${first.message}` : err.message;
    return new RegistrationError(
      first?.field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata',
      description,
    );
  }
}

/** RFC 7591 member → the management API's client field, where the name differs or not. */
const SAME_NAME = [
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'token_endpoint_auth_method',
  'id_token_signed_response_alg',
  'jwks',
  'jwks_uri',
  'logo_uri',
  'client_uri',
  'policy_uri',
  'tos_uri',
  'dpop_bound_access_tokens',
] as const;

const DEFAULT_SCOPES = ['openid', 'profile', 'email'];

/**
 * The management API's client fields for RFC 7591 metadata, checked against the tenant's bounds.
 * Members this server does not support are ignored, as RFC 7591 §2 allows; shapes are checked
 * afterwards by the client DTOs and rules, exactly as for an admin.
 */
export function toClientFields(
  metadata: unknown,
  policy: DynamicRegistration,
): Record<string, unknown> {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new RegistrationError('invalid_client_metadata', 'the body must be a JSON object');
  }
  const m = metadata as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const key of SAME_NAME) if (m[key] !== undefined && m[key] !== null) fields[key] = m[key];

  const method = (fields.token_endpoint_auth_method ??= 'client_secret_basic');
  const clientType = method === 'none' ? 'public' : 'confidential';
  if (!policy.client_types.includes(clientType)) {
    throw new RegistrationError(
      'invalid_client_metadata',
      `${clientType} clients may not register here (token_endpoint_auth_method ${String(method)})`,
    );
  }
  fields.client_type = clientType;
  fields.name =
    typeof m.client_name === 'string' && m.client_name.trim()
      ? m.client_name.trim().slice(0, 200)
      : 'Registered client';

  const grants = (fields.grant_types ??= ['authorization_code']);
  if (Array.isArray(grants)) {
    const refused = grants.filter((g) => !policy.grant_types.includes(String(g)));
    if (refused.length) {
      throw new RegistrationError(
        'invalid_client_metadata',
        `grant_types not allowed: ${refused.join(', ')}`,
      );
    }
  }
  if (m.response_types !== undefined) {
    const types = Array.isArray(m.response_types) ? m.response_types : [m.response_types];
    if (types.some((t) => t !== 'code')) {
      throw new RegistrationError('invalid_client_metadata', 'response_types may only be ["code"]');
    }
  }

  if (m.scope !== undefined && typeof m.scope !== 'string') {
    throw new RegistrationError(
      'invalid_client_metadata',
      'scope must be a space-separated string',
    );
  }
  const scopes =
    typeof m.scope === 'string'
      ? m.scope.split(' ').filter(Boolean)
      : DEFAULT_SCOPES.filter((s) => policy.scopes.includes(s));
  const outside = scopes.filter((s) => !policy.scopes.includes(s));
  if (outside.length) {
    throw new RegistrationError(
      'invalid_client_metadata',
      `scope not allowed: ${outside.join(' ')}`,
    );
  }
  fields.allowed_scopes = scopes;

  if (Array.isArray(fields.redirect_uris)) {
    for (const uri of fields.redirect_uris) {
      const scheme = typeof uri === 'string' ? URL.parse(uri)?.protocol.slice(0, -1) : undefined;
      if (!scheme || !policy.redirect_uri_schemes.includes(scheme)) {
        throw new RegistrationError(
          'invalid_redirect_uri',
          `redirect URI scheme not allowed: ${String(uri).slice(0, 200)}`,
        );
      }
    }
  }
  return fields;
}

const epoch = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

/** A client as RFC 7591/7592 answers it (registered metadata, no secret). */
export function toRegistrationAnswer(c: ClientDto, registrationClientUri: string) {
  const answer: Record<string, unknown> = {
    client_id: c.client_id,
    client_id_issued_at: epoch(c.created_at),
    client_name: c.name,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    response_types: c.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    scope: c.allowed_scopes.join(' '),
    dpop_bound_access_tokens: c.dpop_bound_access_tokens,
    registration_client_uri: registrationClientUri,
  };
  for (const key of [
    'jwks',
    'jwks_uri',
    'logo_uri',
    'client_uri',
    'policy_uri',
    'tos_uri',
  ] as const) {
    if (c[key] !== null) answer[key] = c[key];
  }
  return answer;
}
