/**
 * Authentication context of a sign-in, as RFC 8176 `amr` values and an `acr` level from a fixed
 * ladder. The ladder is ordered: a request for one level is met by it or any level above.
 * - `single-factor`: one kind of factor (a password, a PIN and pattern, or an email code alone)
 * - `mfa`: two kinds (password or PIN/pattern + TOTP, recovery code or email code)
 * - `phishing-resistant`: a passkey with user verification (possession plus PIN/biometric)
 */
export const ACR_LEVELS = ['single-factor', 'mfa', 'phishing-resistant'] as const;
export type Acr = (typeof ACR_LEVELS)[number];

/**
 * The kind of factor each RFC 8176 method is: a PIN and a pattern are both something the user
 * knows (one factor together, as a password is); a TOTP, a mailed code or a recovery code is
 * something the user has; a passkey is possession with user verification.
 */
const FACTOR_KIND: Record<string, 'know' | 'have'> = {
  pwd: 'know',
  pin: 'know',
  pattern: 'know',
  otp: 'have',
  kba: 'have',
  hwk: 'have',
  swk: 'have',
};

/** The `amr` as issued (with `mfa` when two kinds of factor were used) and the `acr` it reaches. */
export function authContext(amr: string[]): { amr: string[]; acr: Acr } {
  const methods = [...new Set(amr.filter((m) => m !== 'mfa'))];
  const kinds = new Set(methods.map((m) => FACTOR_KIND[m] ?? m));
  const hardware = methods.includes('hwk');
  const multi = hardware || kinds.size >= 2 || amr.includes('mfa');
  const issued = [...methods, ...(multi ? ['mfa'] : [])];
  return { amr: issued, acr: hardware ? 'phishing-resistant' : multi ? 'mfa' : 'single-factor' };
}

export function acrRank(value: unknown): number {
  return ACR_LEVELS.indexOf(value as Acr);
}

/**
 * The lowest level an authorization request asks for, from `acr_values` or a `claims` request
 * for `acr` (value or values); undefined when it names none of ours. The lowest, because any of
 * the listed values satisfies the client (OIDC Core 3.1.2.1 and 5.5.1.1).
 */
export function requestedAcrRank(
  acrValues: unknown,
  claim: { value?: unknown; values?: unknown } | undefined,
): number | undefined {
  const asked = [
    ...(typeof acrValues === 'string' ? acrValues.split(' ') : []),
    ...(claim?.value !== undefined ? [claim.value] : []),
    ...(Array.isArray(claim?.values) ? claim.values : []),
  ]
    .map(acrRank)
    .filter((rank) => rank >= 0);
  return asked.length ? Math.min(...asked) : undefined;
}
