import type { FieldError } from '../common/problem.js';

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated. */
export const BCRYPT_MAX_BYTES = 72;

export function passwordProblems(
  password: string,
  minLength: number,
  field = 'password',
): FieldError[] {
  const errors: FieldError[] = [];
  if ([...password].length < minLength)
    errors.push({ field, message: `must be at least ${minLength} characters` });
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    errors.push({ field, message: `must be at most ${BCRYPT_MAX_BYTES} bytes (UTF-8)` });
  }
  if ([...password].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    errors.push({ field, message: 'must not contain control characters' });
  return errors;
}
