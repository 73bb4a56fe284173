import { authContext, requestedAcrRank } from './auth-context.js';

describe('authentication context', () => {
  it.each([
    [['pwd'], ['pwd'], 'single-factor'],
    [['pin', 'pattern'], ['pin', 'pattern'], 'single-factor'],
    [['otp'], ['otp'], 'single-factor'],
    [['pwd', 'otp'], ['pwd', 'otp', 'mfa'], 'mfa'],
    [['pin', 'pattern', 'otp'], ['pin', 'pattern', 'otp', 'mfa'], 'mfa'],
    [['pwd', 'kba'], ['pwd', 'kba', 'mfa'], 'mfa'],
    [['hwk', 'mfa'], ['hwk', 'mfa'], 'phishing-resistant'],
  ])('%j → amr %j, acr %s', (amr, issued, acr) => {
    expect(authContext(amr)).toEqual({ amr: issued, acr });
  });

  it('takes the lowest known level a request names', () => {
    expect(requestedAcrRank('phishing-resistant mfa', undefined)).toBe(1);
    expect(requestedAcrRank(undefined, { values: ['x', 'phishing-resistant'] })).toBe(2);
    expect(requestedAcrRank('urn:other', { value: 'also-other' })).toBeUndefined();
  });
});
