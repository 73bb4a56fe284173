import { hkdfSync } from 'node:crypto';

/** Every use of a derived tenant key, named once here so two call sites cannot collide. */
export type TenantKeyPurpose =
  | 'oidc-cookies'
  | 'login-csrf'
  | 'account-csrf'
  | 'email-link-csrf'
  | 'reset-form-csrf'
  | 'email-tokens'
  | 'device-links'
  | 'device-link-csrf'
  | 'passkey-decoy'
  | 'recovery-codes'
  | 'forward-auth-cookies';

/**
 * A 32-byte key for one purpose of one tenant, derived from the master key (HKDF-SHA256), so
 * nothing extra is stored and rotating the master key rotates them all. Tenants never share a
 * key: a cookie or token signed for tenant A does not verify at tenant B. The named arguments
 * make a swapped tenant and purpose a compile error instead of a silently different key.
 */
export function deriveTenantKey(
  masterKey: Buffer,
  { tenantId, purpose }: { tenantId: string; purpose: TenantKeyPurpose },
): Buffer {
  return Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), `idp:${purpose}:${tenantId}`, 32),
  );
}
