import { randomBytes } from 'node:crypto';
import { SecretBox } from './envelope.js';
import { constantTimeEqual, randomToken, sha256Hex } from './secrets.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never returns the plaintext in the sealed form', () => {
    const sealed = box.seal('s3cret-value', 'tenant:a');
    expect(sealed).not.toContain('s3cret');
    expect(box.openString(sealed, 'tenant:a')).toBe('s3cret-value');
  });

  it('refuses a ciphertext bound to another owner', () => {
    const sealed = box.seal('x', 'tenant:a');
    expect(() => box.open(sealed, 'tenant:b')).toThrow();
  });

  it('refuses a tampered ciphertext and a different key', () => {
    const sealed = box.seal('hello');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('jello').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
  });

  it('refuses a ciphertext whose tag was truncated', () => {
    const sealed = box.seal('hello');
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[2]!, 'base64url');
    for (const length of [4, 8, 12, 15]) {
      parts[2] = tag.subarray(0, length).toString('base64url');
      expect(() => box.open(parts.join('.'))).toThrow('not a sealed secret');
    }
  });

  it('rejects a key of the wrong size', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('32 bytes');
  });
});

describe('secrets', () => {
  it('compares equal and unequal values, including different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });

  it('makes distinct tokens and stable hashes', () => {
    expect(randomToken()).not.toBe(randomToken());
    expect(randomToken(32)).toHaveLength(43);
    expect(sha256Hex('a')).toBe(sha256Hex('a'));
    expect(sha256Hex('a')).toHaveLength(64);
  });
});
