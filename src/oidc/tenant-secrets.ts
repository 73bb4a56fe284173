import { hkdfSync } from 'node:crypto';

/**
 * A 32-byte key for one purpose of one tenant, derived from the master key (HKDF-SHA256), so
 * nothing extra is stored and rotating the master key rotates them all. Tenants never share
 * a key: a cookie or token signed for tenant A does not verify at tenant B.
 */
export function deriveTenantKey(masterKey: Buffer, tenantId: string, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), `idp:${purpose}:${tenantId}`, 32),
  );
}
