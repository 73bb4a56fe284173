import type { DataSource, EntityManager } from 'typeorm';
import { crossTenant } from './cross-tenant-sql.js';
import { isTenantScopedSql, TenantRepository, type TenantOwned } from './tenant-repository.js';

class Row implements TenantOwned {
  tenant_id: string | null;
}

/** An embedded-style data source (no pg pool) that records what it ran. */
function fakeDataSource() {
  const ran: Array<{ on: string; text: string; params: unknown[] }> = [];
  const runner = (on: string) => ({
    query: async (text: string, params: unknown[] = []) => {
      ran.push({ on, text, params });
      return [{ ok: true }];
    },
  });
  const ds = { driver: {}, ...runner('dataSource') } as unknown as DataSource;
  return { ds, ran, manager: runner('manager') as unknown as EntityManager };
}

describe('TenantRepository.sql', () => {
  it.each([
    'SELECT * FROM t WHERE tenant_id = $1 AND x = $2',
    'DELETE FROM t WHERE e.tenant_id=$1',
    'SELECT my_function($1, $2)',
    'INSERT INTO blocks (tenant_id, kind) VALUES ($1, $2) ON CONFLICT (tenant_id, kind) DO NOTHING',
  ])('accepts a statement confined to the tenant: %s', (text) => {
    expect(isTenantScopedSql(text)).toBe(true);
  });

  it.each([
    'SELECT * FROM t',
    'SELECT * FROM t WHERE tenant_id = $2',
    'SELECT * FROM t WHERE tenant_id = $10',
    'INSERT INTO t (kind, tenant_id) VALUES ($1, $2)',
    'INSERT INTO t (tenant_id, kind) VALUES ($2, $1)',
    'INSERT INTO t (tenant_id, kind) SELECT * FROM unnest($1::text[], $2::text[])',
  ])('refuses a statement that may reach another tenant: %s', async (text) => {
    expect(isTenantScopedSql(text)).toBe(false);
    const { ds } = fakeDataSource();
    await expect(new TenantRepository(ds, Row).sql('acme', 'n', text)).rejects.toThrow(
      'does not filter on tenant_id = $1',
    );
  });

  it('puts the tenant first and runs on the transaction it is given', async () => {
    const { ds, ran, manager } = fakeDataSource();
    const repo = new TenantRepository(ds, Row);
    const text = 'DELETE FROM t WHERE tenant_id = $1 AND x < $2';
    await repo.sql('acme', 'purge', text, [5], manager);
    await repo.sql('acme', 'purge', text, [6]);
    expect(ran).toEqual([
      { on: 'manager', text, params: ['acme', 5] },
      { on: 'dataSource', text, params: ['acme', 6] },
    ]);
  });

  it('needs a tenant', async () => {
    const { ds } = fakeDataSource();
    await expect(
      new TenantRepository(ds, Row).sql('', 'n', 'SELECT 1 FROM t WHERE tenant_id = $1'),
    ).rejects.toThrow('tenant id is required');
  });
});

describe('crossTenant', () => {
  it('runs a named statement on the manager when given, else on its runner', async () => {
    const { ds, ran, manager } = fakeDataSource();
    await crossTenant(ds).sql('lock', 'SELECT pg_advisory_xact_lock($1)', [1], manager);
    await crossTenant(ds).sql('ping', 'SELECT 1');
    expect(ran.map((r) => r.on)).toEqual(['manager', 'dataSource']);
    expect(() => crossTenant(ds).sql('', 'SELECT 1')).toThrow('needs a name');
  });
});
