import { errors } from 'oidc-provider';
import type { FoundPayload } from './oidc-payload.store.js';

/** What may reach the `oidc_payloads` table, and how a lost redemption race is reported. */

/**
 * Whether a key can reach PostgreSQL: `text` cannot hold NUL, and a key with one (a token
 * or code sent as `%00`) can name nothing stored, so it is not looked up at all.
 */
export function storable(key: string): boolean {
  return !key.includes('\0');
}

export const NOT_FOUND: FoundPayload = { payload: undefined };

/** Artefacts redeemed once: consumed only if still unconsumed (see OidcPayloadStore.consume). */
export const ONE_TIME_MODELS = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * A code, refresh token or device code was already consumed when this request's writes were
 * applied: another request redeemed it first. Nothing of the request's writes was stored. To
 * oidc-provider an invalid_grant; OidcProviders treats it as a reuse (the grant is revoked).
 */
export class AlreadyConsumed extends errors.InvalidGrant {
  constructor(
    readonly model: string,
    readonly id: string,
  ) {
    super(`${model} already consumed`);
  }

  /** The error oidc_payloads_apply raises for a lost race (SQLSTATE IDP01), as this class. */
  static from(err: unknown): AlreadyConsumed | undefined {
    const e = err as { code?: string; detail?: string; driverError?: typeof e } | null;
    const source = e?.code === 'IDP01' ? e : e?.driverError;
    if (source?.code !== 'IDP01' || typeof source.detail !== 'string') return undefined;
    const { model, id } = JSON.parse(source.detail) as { model: string; id: string };
    return new AlreadyConsumed(model, id);
  }
}
