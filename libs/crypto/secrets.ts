import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** URL-safe random string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex digest. Used for high-entropy secrets (API keys), where a slow hash buys nothing. */
export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Compares two secrets in time independent of where they differ. Inputs of different length
 * are hashed first so that the length itself does not leak through an early return.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && Buffer.byteLength(a) === Buffer.byteLength(b);
}
