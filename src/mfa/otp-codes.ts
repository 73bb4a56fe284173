import { createHmac, randomBytes, randomInt } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: the form authenticator apps expect in otpauth URIs. */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** 160 random bits, the key size RFC 4226 recommends for HMAC-SHA1. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** TOTP time step (RFC 6238, 30 s) of an instant. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / 30);
}

/** Crockford's alphabet: no I, L, O, U, so codes read back unambiguously. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_PATTERN = /^[0-9a-z]{10}$/;

/** `xxxx-xxxx-xx`: 10 symbols of 5 bits each, 50 bits from the CSPRNG. */
export function newRecoveryCode(): string {
  let raw = '';
  for (let i = 0; i < 10; i += 1) raw += RECOVERY_ALPHABET[randomInt(32)];
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

/** What a user types, reduced to the 10 symbols (case, hyphens and spaces ignored); null if it cannot be one. */
export function normalizeRecoveryCode(input: string): string | null {
  const raw = input.toLowerCase().replace(/[\s-]/g, '');
  return RECOVERY_PATTERN.test(raw) ? raw : null;
}

/**
 * Keyed hash for high-entropy one-time secrets: a slow hash buys nothing there, and the key
 * (not in the database) keeps a leaked table from being checked offline.
 */
export function keyedHash(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}
