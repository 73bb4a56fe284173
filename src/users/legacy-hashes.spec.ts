import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { hashScheme, verifyLegacy } from './legacy-hashes.js';

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

describe('password hashes from other products', () => {
  it('recognises bcrypt, argon2 and PBKDF2 PHC strings, and nothing else', async () => {
    expect(hashScheme(await bcrypt.hash('pw', 4))).toBe('bcrypt');
    expect(hashScheme(await argon2Hash('pw'))).toBe('argon2');
    expect(hashScheme('$pbkdf2-sha256$29000$N2bM2Xs...$abc')).toBe('pbkdf2');
    expect(hashScheme('$pbkdf2-sha256$10$salt$hash')).toBeNull(); // too few iterations
    expect(hashScheme('5f4dcc3b5aa765d61d8327deb882cf99')).toBeNull();
    expect(hashScheme('$1$md5crypt$abc')).toBeNull();
  });

  it('verifies argon2id and PBKDF2 (PHC and passlib forms)', async () => {
    expect(await verifyLegacy(await argon2Hash('right'), 'right')).toBe(true);
    expect(await verifyLegacy(await argon2Hash('right'), 'wrong')).toBe(false);
    const salt = randomBytes(16);
    const phc = `$pbkdf2-sha256$i=1000$${b64(salt)}$${b64(pbkdf2Sync('right', salt, 1000, 32, 'sha256'))}`;
    expect(await verifyLegacy(phc, 'right')).toBe(true);
    expect(await verifyLegacy(phc, 'wrong')).toBe(false);
    const passlib = `$pbkdf2-sha512$1000$${b64(salt).replace(/\+/g, '.')}$${b64(
      pbkdf2Sync('right', salt, 1000, 64, 'sha512'),
    ).replace(/\+/g, '.')}`;
    expect(await verifyLegacy(passlib, 'right')).toBe(true);
  });
});
