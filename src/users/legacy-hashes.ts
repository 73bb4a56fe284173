import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as argon2Verify } from '@node-rs/argon2';

const pbkdf2Async = promisify(pbkdf2);

/** bcrypt as this server writes it ($2b$) and as other products do ($2a$, $2y$). */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const ARGON2 =
  /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/.-]+\$[A-Za-z0-9+/.-]+$/;
/** PHC (`i=600000`) and passlib (`29000`) forms of PBKDF2; salt and hash in (adapted) base64. */
const PBKDF2 =
  /^\$pbkdf2-(sha1|sha256|sha512)\$(?:i=)?(\d+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/;

export type HashScheme = 'bcrypt' | 'argon2' | 'pbkdf2';

/** Which scheme a stored hash uses; null for anything this server cannot verify. */
export function hashScheme(stored: string): HashScheme | null {
  if (BCRYPT.test(stored)) return 'bcrypt';
  if (ARGON2.test(stored)) return 'argon2';
  const m = PBKDF2.exec(stored);
  if (m && Number(m[2]) >= 1000 && Number(m[2]) <= 10_000_000) return 'pbkdf2';
  return null;
}

/** passlib writes `.` for `+` and no padding; the PHC form writes standard base64 without padding. */
const b64 = (s: string) => Buffer.from(s.replace(/\./g, '+'), 'base64');

/**
 * Verifies a password against an imported argon2 or PBKDF2 hash (users moved in from another
 * product). The caller re-hashes with bcrypt after a success (decision 0024).
 */
export async function verifyLegacy(stored: string, password: string): Promise<boolean> {
  const scheme = hashScheme(stored);
  if (scheme === 'argon2') return argon2Verify(stored, password).catch(() => false);
  if (scheme !== 'pbkdf2') return false;
  const [, digest, iterations, salt, hash] = PBKDF2.exec(stored)!;
  const expected = b64(hash!);
  if (expected.length < 16) return false;
  const actual = await pbkdf2Async(
    password,
    b64(salt!),
    Number(iterations),
    expected.length,
    digest!,
  );
  return timingSafeEqual(actual, expected);
}
