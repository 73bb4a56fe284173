import { DEFAULT_SETTINGS, type TenantSettings } from '../tenants/tenant-settings.js';
import { policyOf, secretOf } from './pin-pattern-policy.js';

const settings = (s: Partial<TenantSettings>): TenantSettings => ({ ...DEFAULT_SETTINGS, ...s });

describe('PIN/pattern policy', () => {
  it('is off unless a factor is enabled', () => {
    expect(policyOf(settings({}))).toBeNull();
    expect(policyOf(settings({ login_order: ['PIN'] }))).toBeNull();
  });

  it('follows login_order, keeping only enabled factors', () => {
    const both = { use_pin: true, use_pattern: true };
    expect(policyOf(settings(both))!.factors).toEqual(['PIN', 'PATTERN']);
    expect(policyOf(settings({ ...both, login_order: ['PATTERN', 'PIN'] }))!.factors).toEqual([
      'PATTERN',
      'PIN',
    ]);
    expect(policyOf(settings({ ...both, login_order: ['PATTERN'] }))!.factors).toEqual(['PATTERN']);
    expect(policyOf(settings({ use_pin: true, login_order: ['PATTERN', 'PIN'] }))!.factors).toEqual(
      ['PIN'],
    );
  });

  it('keeps sizes in range whatever is stored', () => {
    const p = policyOf(settings({ use_pin: true, pin_size: 40, pattern_size: 9 }))!;
    expect([p.pinSize, p.gridSize]).toEqual([12, 5]);
  });

  it('encodes the secret in order and refuses what the policy does not allow', () => {
    const p = policyOf(
      settings({ use_pin: true, use_pattern: true, pin_size: 4, login_order: ['PATTERN', 'PIN'] }),
    )!;
    expect(secretOf(p, { pin: '0123', pattern: [0, 1, 2, 5] })).toBe('pattern:3:0-1-2-5|pin:0123');
    expect(() => secretOf(p, { pin: '012', pattern: [0, 1, 2, 5] })).toThrow(/4 digits/);
    expect(() => secretOf(p, { pin: '01a3', pattern: [0, 1, 2, 5] })).toThrow();
    expect(() => secretOf(p, { pin: '0123', pattern: [0, 1, 2] })).toThrow(/at least 4/);
    expect(() => secretOf(p, { pin: '0123', pattern: [0, 1, 1, 2] })).toThrow();
    expect(() => secretOf(p, { pin: '0123', pattern: [0, 1, 2, 9] })).toThrow();
  });
});
