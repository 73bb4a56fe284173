import { startTestApp, uniqueTenantId, type TestApp } from '../libs/testing/index.js';

/** Smoke test of the embedded default: no DATABASE_URL, PGlite in DATA_DIR. */
describe('embedded PGlite default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embedded: true, env: { IDP_BOOTSTRAP_OPERATOR_KEY: '' } });
  }, 60_000);
  afterAll(() => t?.close());

  it('migrates, serves health and readiness, and stores a tenant', async () => {
    expect(t.config.databaseUrl).toBeUndefined();
    expect((await t.http('GET', '/health/ready', { key: null })).status).toBe(200);
    // no bootstrap key configured: the test key is refused, a generated one was printed instead
    expect((await t.http('GET', '/api/v1/tenants')).status).toBe(401);
  });

  it('works end to end with a bootstrap key on the same data directory', async () => {
    await t.close();
    t = await startTestApp({ embedded: true, env: { DATA_DIR: t.config.dataDir } });
    const tenant_id = uniqueTenantId();
    const created = await t.http('POST', '/api/v1/tenants', {
      body: { tenant_id, display_name: 'Embedded', pin_size: 5 },
    });
    expect(created.status).toBe(201);
    const read = await t.http('GET', `/api/v1/tenants/${tenant_id}`);
    expect(read.body).toMatchObject({ tenant_id, display_name: 'Embedded', pin_size: 5 });
  }, 60_000);
});
