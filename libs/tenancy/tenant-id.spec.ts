import { isValidTenantId, tenantIdProblem } from './tenant-id.js';

describe('tenant ids', () => {
  it.each(['a', 'acme', 'acme-corp', 'a1', '0', 'x'.repeat(63)])('accepts %s', (id) => {
    expect(isValidTenantId(id)).toBe(true);
  });

  it.each([
    '',
    'Acme',
    '-acme',
    'acme-',
    'ac_me',
    'ac.me',
    'x'.repeat(64),
    'api',
    'docs',
    'health',
    'admin',
    'metrics',
  ])('rejects %j', (id) => {
    expect(tenantIdProblem(id)).toBeDefined();
  });
});
