import { randomBytes } from 'node:crypto';
import { deriveTenantKey } from '../../libs/crypto/index.js';
import {
  base32Encode,
  keyedHash,
  newRecoveryCode,
  newTotpSecret,
  normalizeRecoveryCode,
  totpStep,
} from './otp-codes.js';

describe('otp helpers', () => {
  it('encodes base32 as RFC 4648 does (test vectors, no padding)', () => {
    expect(base32Encode(Buffer.from(''))).toBe('');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
    expect(base32Encode(Buffer.from('fo'))).toBe('MZXQ');
    expect(base32Encode(Buffer.from('foo'))).toBe('MZXW6');
    expect(base32Encode(Buffer.from('foob'))).toBe('MZXW6YQ');
    expect(base32Encode(Buffer.from('fooba'))).toBe('MZXW6YTB');
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
  });

  it('makes 160-bit secrets', () => {
    const s = newTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(s);
  });

  it('counts 30-second steps', () => {
    expect(totpStep(59_000)).toBe(1);
    expect(totpStep(60_000)).toBe(2);
  });

  it('makes distinct recovery codes that normalise back', () => {
    const codes = new Set(Array.from({ length: 200 }, () => newRecoveryCode()));
    expect(codes.size).toBe(200);
    for (const c of codes) {
      expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$/);
      expect(normalizeRecoveryCode(c.toUpperCase().replace(/-/g, ' '))).toBe(c.replace(/-/g, ''));
    }
    expect(normalizeRecoveryCode('abc')).toBeNull();
    expect(normalizeRecoveryCode('abcd-efgh-ij-k')).toBeNull();
    expect(normalizeRecoveryCode('abcd-efgh-i!')).toBeNull();
  });

  it('keys hashes per tenant', () => {
    const master = randomBytes(32);
    const key = (tenantId: string) =>
      deriveTenantKey(master, { tenantId, purpose: 'recovery-codes' });
    const a = key('a');
    const b = key('b');
    expect(keyedHash(a, 'x')).toBe(keyedHash(key('a'), 'x'));
    expect(keyedHash(a, 'x')).not.toBe(keyedHash(b, 'x'));
  });
});
