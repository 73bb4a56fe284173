import { passwordProblems } from './password-policy.js';

describe('password policy', () => {
  it('accepts a password within the limits', () => {
    expect(passwordProblems('correct horse', 8)).toEqual([]);
  });
  it('counts characters for the minimum and bytes for the bcrypt maximum', () => {
    expect(passwordProblems('short', 8)[0].message).toMatch(/at least 8/);
    expect(passwordProblems('ü'.repeat(36), 8)).toEqual([]); // 72 bytes
    expect(passwordProblems('ü'.repeat(37), 8)[0].message).toMatch(/72 bytes/);
    expect(passwordProblems('a'.repeat(73), 8)[0].message).toMatch(/72 bytes/);
  });
  it('refuses control characters', () => {
    expect(passwordProblems('abcdefgh\n', 8)).toHaveLength(1);
  });
});
