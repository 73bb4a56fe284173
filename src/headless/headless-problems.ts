import { DomainError, type FieldError } from '../common/domain-error.js';

/**
 * The problem types of the headless sign-in API (`urn:idp:problem:<code>`): stable codes a
 * custom sign-in UI switches on. None of them says whether an account exists.
 */
export const AUTHN_PROBLEMS = {
  /** Unknown, expired, already finished or another tenant's `auth_req_id`. */
  'authn-request-not-found': 404,
  /** The authorisation waits for something other than a sign-in (say, consent). */
  'authn-wrong-prompt': 409,
  /** The `step_token` is missing, altered, expired, of another request or of another step. */
  'authn-step-expired': 400,
  /** Wrong, blocked or incomplete credentials: one answer whatever the reason. */
  'authn-invalid-credentials': 401,
  /** The credentials were right, but the account may not sign in (disabled). */
  'authn-account-refused': 403,
  /** The tenant's sign-in policy does not offer this method (or sign-up). */
  'authn-method-unavailable': 403,
  /** A browser call from an origin that is neither the provider's nor the client's. */
  'authn-origin-refused': 403,
  /** The authorisation request itself is wrong (client, redirect URI, PKCE, scope). */
  'authn-authorize-refused': 400,
  /** Sign-up data the directory refuses (`errors` lists the fields). */
  'authn-signup-rejected': 400,
  /** The username or email address is already registered. */
  'authn-signup-conflict': 409,
  /** A tenant stipulation is still unmet (terms not accepted, address not verified, ...). */
  'authn-stipulation-unmet': 400,
  /** Too many requests from this network (mailed codes). */
  'authn-rate-limited': 429,
} as const;

export type AuthnProblem = keyof typeof AUTHN_PROBLEMS;

const KIND = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  429: 'too-many',
} as const;

export function authnProblem(
  code: AuthnProblem,
  message: string,
  fields?: FieldError[],
): DomainError {
  return new DomainError(KIND[AUTHN_PROBLEMS[code]], code, message, { fields });
}
