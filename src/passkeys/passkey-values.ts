/** The values the passkey service hands out, and how it words the library's failures. */
import { deriveTenantKey } from '../../libs/crypto/index.js';
import { keyedHash } from '../mfa/otp-codes.js';
import type { PasskeyDto } from './dto/passkey.dto.js';
import type { PasskeyCredentialEntity } from './passkey.entities.js';
import { DomainError } from '../common/domain-error.js';

export interface CeremonyOptions<T> {
  /** Send back with the authenticator's response. */
  challenge_id: string;
  /** Hand to @simplewebauthn/browser (startRegistration / startAuthentication). */
  options: T;
}

export const webauthnFailed = (detail: string) =>
  new DomainError('invalid', 'webauthn-failed', detail, { title: 'Passkey verification failed' });

export function toPasskeyDto(c: PasskeyCredentialEntity): PasskeyDto {
  return {
    passkey_id: c.passkey_id,
    credential_id: c.credential_id,
    user_id: c.user_id,
    name: c.name,
    transports: c.transports,
    backed_up: c.backed_up,
    device_type: c.device_type,
    aaguid: c.aaguid,
    counter: Number(c.counter),
    created_at: c.created_at.toISOString(),
    last_used_at: c.last_used_at?.toISOString() ?? null,
  };
}

/** The library's messages say what failed without secrets; anything odd becomes a plain line. */
export function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (!message || err instanceof TypeError) return 'The response is malformed';
  return message.slice(0, 300);
}

/**
 * The credential id offered for a username without passkeys (or no such user): the same for
 * the same name, so the answer does not tell whether the account exists.
 */
export function decoyCredentialId(masterKey: Buffer, tenantId: string, username: string): string {
  const key = deriveTenantKey(masterKey, { tenantId, purpose: 'passkey-decoy' });
  return Buffer.from(keyedHash(key, username.trim().toLowerCase()), 'hex').toString('base64url');
}
