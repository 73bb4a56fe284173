import { badRequest } from '../common/problem.js';

/**
 * The main seed's names for client fields. Clients written for it send them; they are accepted
 * beside ours (naming both with different values is refused) and answered beside ours.
 */
export const CLIENT_FIELD_ALIASES = {
  sing_alg: 'id_token_signed_response_alg',
  post_logout_redirect_uri: 'post_logout_redirect_uris',
  op_policy_url: 'policy_uri',
  op_tos_url: 'tos_uri',
  // The seed's client_logout_uri is a browser URL: Front-Channel Logout's (decision note 0026).
  frontchannel_logout_uri: 'client_logout_uri',
} as const;

export const SEED_SIGNING_ALGS = ['RS256', 'EdDSA'] as const;

const MIN_SECRET = 32;
const MAX_SECRET = 256;

/** Moves each seed-named field onto our name, in place; refuses a body naming both differently. */
export function foldClientAliases(dto: object): void {
  const body = dto as Record<string, unknown>;
  for (const [alias, field] of Object.entries(CLIENT_FIELD_ALIASES)) {
    const value = body[alias];
    if (value === undefined) continue;
    if (body[field] !== undefined && JSON.stringify(body[field]) !== JSON.stringify(value)) {
      throw badRequest(`${alias} and ${field} disagree`, [
        { field: alias, message: `names the same setting as ${field}: give one, or equal values` },
      ]);
    }
    body[field] = value;
    delete body[alias];
  }
}

/**
 * A caller-chosen client secret (the seed lets the creator pick one) must be as hard to guess as
 * the ones we generate: at least 32 printable characters, not a short pattern repeated.
 */
export function clientSecretProblem(secret: string): string | null {
  if (secret.length < MIN_SECRET) return `must be at least ${MIN_SECRET} characters`;
  if (secret.length > MAX_SECRET) return `must be at most ${MAX_SECRET} characters`;
  if (!/^[\x21-\x7e]+$/.test(secret)) return 'must be printable ASCII without spaces';
  if (new Set(secret).size < 12) return 'is too repetitive: use a random value';
  return null;
}
