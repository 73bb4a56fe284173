import { deriveTenantKey, constantTimeEqual, type SecretBox } from '../../libs/crypto/index.js';
import { keyedHash } from './otp-codes.js';

/**
 * Recovery codes are stored as HMACs under a key derived from the master key and the tenant id
 * (TotpService). Codes imported from another deployment (another master key or tenant id) keep
 * their source key, sealed with this deployment's master key inside the stored value:
 * `x1~<sealed key>~<hmac>`. Native values have no prefix.
 */
const IMPORTED = 'x1~';

export const recoveryKeyAad = (tenantId: string) => `tenant:${tenantId}:recovery-key`;

export function nativeRecoveryKey(masterKey: Buffer, tenantId: string): Buffer {
  return deriveTenantKey(masterKey, { tenantId, purpose: 'recovery-codes' });
}

export function recoveryHashWith(key: Buffer, userId: string, normalized: string): string {
  return keyedHash(key, `${userId}:${normalized}`);
}

/** The stored value of an imported code: its source key (sealed here) and its HMAC. */
export function importedRecoveryHash(sealedKey: string, hash: string): string {
  return `${IMPORTED}${sealedKey}~${hash}`;
}

/** A stored value split into the key it was made with (opened) and the HMAC itself. */
export function recoveryKeyOf(
  stored: string,
  tenantId: string,
  box: SecretBox,
  native: Buffer,
): { key: Buffer; hash: string } {
  if (!stored.startsWith(IMPORTED)) return { key: native, hash: stored };
  const [sealed, hash] = stored.slice(IMPORTED.length).split('~');
  return {
    key: Buffer.from(box.openString(sealed!, recoveryKeyAad(tenantId)), 'hex'),
    hash: hash!,
  };
}

/** Whether `stored` is the HMAC of this code, natively (`candidate`) or under an imported key. */
export function recoveryCodeMatches(
  stored: string,
  candidate: string,
  compute: () => { tenantId: string; userId: string; normalized: string; box: SecretBox },
): boolean {
  if (!stored.startsWith(IMPORTED)) return constantTimeEqual(stored, candidate);
  try {
    const { tenantId, userId, normalized, box } = compute();
    const { key, hash } = recoveryKeyOf(stored, tenantId, box, Buffer.alloc(0));
    return constantTimeEqual(hash, recoveryHashWith(key, userId, normalized));
  } catch {
    return false;
  }
}
