/** Attempt limits for one dimension (an IP address or a username) of the brute-force blocker. */
export interface BlockLimits {
  max_attempts: number;
  window_seconds: number;
  block_seconds: number;
}

/** Dynamic client registration bounds (RFC 7591); see dto/dynamic-registration.dto.ts. */
export interface DynamicRegistration {
  enabled: boolean;
  require_initial_access_token: boolean;
  redirect_uri_schemes: string[];
  grant_types: string[];
  scopes: string[];
  client_types: Array<'public' | 'confidential'>;
}

/** Entra ID external authentication method (EAM); see dto/entra-eam.dto.ts. */
export interface EntraEam {
  enabled: boolean;
  issuer: string | null;
  jwks_uri: string | null;
  client_id: string | null;
  accepted_acr: string[];
  methods: string[];
  /**
   * Which methods reach which acr value. An accepted acr without an entry is reached by every
   * method of `methods`. Absent in settings stored before it existed: DEFAULT_EAM_ACR_METHODS.
   */
  acr_methods?: Array<{ acr: string; methods: string[] }>;
}

/**
 * Entra asks for `possessionorinherence`: a TOTP or a passkey is possession. A PIN/pattern is
 * something the user knows, so it reaches that value only where the tenant maps it explicitly.
 */
export const DEFAULT_EAM_ACR_METHODS = [
  { acr: 'possessionorinherence', methods: ['totp', 'passkey'] },
];

/**
 * Rules a user must meet before a sign-in completes (src/hosted/interaction/stipulations.ts):
 * each one on routes an unmet user through its page (or headless step) first.
 */
export interface Stipulations {
  verified_email: boolean;
  accepted_terms: boolean;
  second_factor: boolean;
  passkey: boolean;
  password_changed_after_reset: boolean;
}

export const DEFAULT_STIPULATIONS: Stipulations = {
  verified_email: false,
  accepted_terms: false,
  second_factor: false,
  passkey: false,
  password_changed_after_reset: false,
};

export type LoginFactor = 'PIN' | 'PATTERN';
export const LOGIN_FACTORS: LoginFactor[] = ['PIN', 'PATTERN'];

/** Every per-tenant setting. Stored whole in `tenants.settings`, defaults filled on write. */
export interface TenantSettings {
  register_enable: boolean;
  is_2fa: boolean;
  use_pin: boolean;
  pin_size: number;
  use_pattern: boolean;
  /** Points per side of the pattern grid (3–5); the seed spells it `patter_size`. */
  pattern_size: number;
  use_face_recognition: boolean;
  use_liveness: boolean;
  show_pin_when_typing: boolean;
  block_config: { ip: BlockLimits; user: BlockLimits };
  login_order: LoginFactor[];
  passkey_enabled: boolean;
  /** False: one identifier, the email address is the username (sign-up and sign-in ask for it alone). */
  has_username_and_email: boolean;
  liveness_config: Record<string, unknown>;
  password_enabled: boolean;
  /** Sign-in links by mail on the hosted login page (src/hosted/interaction/magic-link.*). */
  magic_link_enabled: boolean;
  password_min_length: number;
  access_token_ttl: number;
  id_token_ttl: number;
  refresh_token_ttl: number;
  session_ttl: number;
  logo_url: string | null;
  primary_color: string | null;
  dynamic_registration: DynamicRegistration;
  entra_eam: EntraEam;
  /**
   * Dedicated auth host (PassKey Auth's `--auth-host`), `host[:port]`: the tenant's sign-in UI
   * is served there only; elsewhere UI paths answer 307 to it and the passkey ceremonies 404
   * (src/forward-auth/auth-host.ts, decision 0020). Null: every host serves everything.
   */
  auth_host: string | null;
  /** Absent in settings stored before it existed: DEFAULT_STIPULATIONS. */
  stipulations: Stipulations;
  /** The current terms version; a user who accepted another one accepts again. */
  terms_version: string;
  /** The terms' page, when the client has no `op_user_agreement_url` of its own. */
  terms_url: string | null;
}

export const DEFAULT_SETTINGS: TenantSettings = {
  register_enable: false,
  is_2fa: false,
  use_pin: false,
  pin_size: 6,
  use_pattern: false,
  pattern_size: 3,
  use_face_recognition: false,
  use_liveness: false,
  show_pin_when_typing: false,
  block_config: {
    ip: { max_attempts: 20, window_seconds: 300, block_seconds: 900 },
    user: { max_attempts: 5, window_seconds: 300, block_seconds: 900 },
  },
  login_order: [],
  passkey_enabled: true,
  has_username_and_email: true,
  liveness_config: {},
  password_enabled: true,
  magic_link_enabled: false,
  password_min_length: 8,
  access_token_ttl: 3600,
  id_token_ttl: 3600,
  refresh_token_ttl: 30 * 24 * 3600,
  session_ttl: 14 * 24 * 3600,
  logo_url: null,
  primary_color: null,
  dynamic_registration: {
    enabled: false,
    require_initial_access_token: true,
    redirect_uri_schemes: ['https', 'http'],
    grant_types: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    client_types: ['public', 'confidential'],
  },
  entra_eam: {
    enabled: false,
    issuer: null,
    jwks_uri: null,
    client_id: null,
    accepted_acr: ['possessionorinherence'],
    methods: ['totp', 'passkey'],
    acr_methods: DEFAULT_EAM_ACR_METHODS,
  },
  auth_host: null,
  stipulations: DEFAULT_STIPULATIONS,
  terms_version: '1',
  terms_url: null,
};

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof TenantSettings>;

/** Merges a partial update into settings; `block_config` merges per dimension, `dynamic_registration` per field. */
export function mergeSettings(
  base: TenantSettings,
  patch: Partial<TenantSettings>,
): TenantSettings {
  const next: TenantSettings = { ...base };
  for (const key of SETTING_KEYS) {
    if (patch[key] === undefined) continue;
    if (key === 'block_config') {
      const bc = patch.block_config as Partial<{
        ip: Partial<BlockLimits>;
        user: Partial<BlockLimits>;
      }>;
      next.block_config = {
        ip: { ...base.block_config.ip, ...bc.ip },
        user: { ...base.block_config.user, ...bc.user },
      };
    } else if (key === 'dynamic_registration') {
      next.dynamic_registration = { ...base.dynamic_registration, ...patch.dynamic_registration };
    } else if (key === 'stipulations') {
      next.stipulations = { ...DEFAULT_STIPULATIONS, ...base.stipulations, ...patch.stipulations };
    } else if (key === 'entra_eam') {
      next.entra_eam = { ...base.entra_eam, ...patch.entra_eam };
    } else {
      (next as unknown as Record<string, unknown>)[key] = patch[key];
    }
  }
  return next;
}
