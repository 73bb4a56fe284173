import type {
  ClaimMapping,
  UpstreamKind,
  UpstreamPreset,
  UpstreamResponseMode,
} from './upstream-provider.entity.js';

/** What a preset fills in when the admin does not say otherwise. */
export interface PresetDefaults {
  kind: UpstreamKind;
  label: string;
  issuer: string | null;
  authorization_endpoint: string | null;
  token_endpoint: string | null;
  userinfo_endpoint: string | null;
  scopes: string[];
  response_mode: UpstreamResponseMode;
  claim_mapping: ClaimMapping;
}

const OIDC_SCOPES = ['openid', 'email', 'profile'];

const oidc = (label: string, issuer: string | null): PresetDefaults => ({
  kind: 'oidc',
  label,
  issuer,
  authorization_endpoint: null,
  token_endpoint: null,
  userinfo_endpoint: null,
  scopes: OIDC_SCOPES,
  response_mode: 'query',
  claim_mapping: {},
});

/** The Entra ID v2.0 issuer of a tenant (GUID or domain) or of `common`/`organizations`/`consumers`. */
export const microsoftIssuer = (tenant: string) =>
  `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/v2.0`;

/**
 * Defaults per preset. GitHub is OAuth2 only: its user API answers `id` (a number, the stable
 * key) and `login`; Apple answers with a form post and asks for `name email`.
 */
export function presetDefaults(preset: UpstreamPreset | null | undefined): PresetDefaults {
  switch (preset) {
    case 'google':
      return oidc('Google', 'https://accounts.google.com');
    case 'microsoft':
      return oidc('Microsoft', microsoftIssuer('common'));
    case 'apple':
      return {
        ...oidc('Apple', 'https://appleid.apple.com'),
        scopes: ['name', 'email'],
        response_mode: 'form_post',
      };
    case 'github':
      return {
        kind: 'oauth2',
        label: 'GitHub',
        issuer: null,
        authorization_endpoint: 'https://github.com/login/oauth/authorize',
        token_endpoint: 'https://github.com/login/oauth/access_token',
        userinfo_endpoint: 'https://api.github.com/user',
        scopes: ['read:user', 'user:email'],
        response_mode: 'query',
        claim_mapping: { subject: 'id', username: 'login', email: 'email', name: 'name' },
      };
    default:
      return oidc('', null);
  }
}
