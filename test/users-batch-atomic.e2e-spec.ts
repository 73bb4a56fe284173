import { newTenant, startTestApp, type TestApp } from './harness.js';

describe('users batch', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is all or nothing above one statement: a failing row after the first 500 leaves no user', async () => {
    const { tenantId } = await newTenant(t, ['users:write', 'users:read']);
    const users = Array.from({ length: 600 }, (_, i) => ({ username: `u${i}` }));
    // Valid for the API, refused by PostgreSQL (NUL in text), in the second statement.
    users[550] = { username: 'u550', display_name: 'bad\u0000name' } as never;
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/users/batch`, { body: { users } });
    expect(r.status).toBe(400);
    const list = await t.http('GET', `/api/v1/tenants/${tenantId}/users?limit=1`);
    expect(list.status).toBe(200);
    expect(list.body.total_count).toBe(0);
    // The resend without the bad row creates all of them.
    users[550] = { username: 'u550' };
    const again = await t.http('POST', `/api/v1/tenants/${tenantId}/users/batch`, {
      body: { users },
    });
    expect(again.status).toBe(200);
    expect(again.body.success_created_count).toBe(600);
  });
});
