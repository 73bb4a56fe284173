import type { ClientSettings } from './client-rules.js';
import type { ClientEntity } from './client.entity.js';
import type { ClientDto } from './dto/client.dto.js';

/** The columns an admin sets: what PUT resets, PATCH merges and the rules judge. */
export const SETTING_KEYS: Array<keyof ClientSettings> = [
  'name',
  'client_type',
  'redirect_uris',
  'post_logout_redirect_uris',
  'allowed_scopes',
  'grant_types',
  'token_endpoint_auth_method',
  'id_token_signed_response_alg',
  'jwks',
  'jwks_uri',
  'logo_uri',
  'client_uri',
  'policy_uri',
  'tos_uri',
  'client_logout_uri',
  'frontchannel_logout_session_required',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'op_user_agreement_url',
  'dpop_bound_access_tokens',
  'register_enable',
  'is_lock',
  'is_group_restricted',
  'first_party',
];

export function toClientDto(c: ClientEntity): ClientDto {
  return {
    client_id: c.client_id,
    name: c.name,
    client_type: c.client_type,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    allowed_scopes: c.allowed_scopes,
    grant_types: c.grant_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    jwks: c.jwks,
    jwks_uri: c.jwks_uri,
    logo_uri: c.logo_uri,
    client_uri: c.client_uri,
    policy_uri: c.policy_uri,
    tos_uri: c.tos_uri,
    client_logout_uri: c.client_logout_uri,
    frontchannel_logout_uri: c.client_logout_uri,
    frontchannel_logout_session_required: c.frontchannel_logout_session_required,
    backchannel_logout_uri: c.backchannel_logout_uri,
    backchannel_logout_session_required: c.backchannel_logout_session_required,
    op_user_agreement_url: c.op_user_agreement_url,
    dpop_bound_access_tokens: c.dpop_bound_access_tokens,
    register_enable: c.register_enable,
    is_lock: c.is_lock,
    is_group_restricted: c.is_group_restricted,
    first_party: c.first_party,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
    tenant_id: c.tenant_id,
    sing_alg: c.id_token_signed_response_alg,
    post_logout_redirect_uri: c.post_logout_redirect_uris,
    op_policy_url: c.policy_uri,
    op_tos_url: c.tos_uri,
  };
}

export function settingsOf(c: ClientEntity): ClientSettings {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) out[key] = c[key];
  return out as unknown as ClientSettings;
}

/** The fields a body names, over `base`; undefined means "not given", null clears. */
export function withGiven(base: ClientSettings, dto: object): ClientSettings {
  const out: Record<string, unknown> = { ...base };
  for (const key of SETTING_KEYS) {
    if (key === 'client_type') continue;
    const value = (dto as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as unknown as ClientSettings;
}
