import pg from 'pg';
import { newTenant, startTestApp, uniqueTenantId, type TestApp } from './harness.js';

/**
 * An acknowledged change has its audit event, because the event is written in the change's own
 * transaction. Proved structurally with a deferred constraint trigger, which PostgreSQL runs at
 * COMMIT, inside the transaction, after everything the application wrote in it:
 * - it refuses a user insert whose transaction holds no `admin.user.create` event naming that
 *   user, so the create only succeeds if the event, subject included, is in the same commit
 *   (written after the commit, as a buffer would, the create fails);
 * - it aborts one chosen create after the event was written: then neither exists.
 * The kill -9 version of this is bench/faults/kill-audit.ts.
 */
describe('audit events ride in the change transaction', () => {
  const PREFIX = 'auditcrash-';
  let t: TestApp;
  let db: pg.Client;
  beforeAll(async () => {
    // The app migrates the run's database on start: the trigger goes on its tables after.
    t = await startTestApp();
    db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    await db.query(`
      CREATE OR REPLACE FUNCTION test_audit_in_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM audit_events
                        WHERE tenant_id = NEW.tenant_id AND type = 'admin.user.create'
                          AND subject_id = NEW.user_id::text) THEN
          RAISE EXCEPTION 'no audit event in the transaction of user %', NEW.username;
        END IF;
        IF NEW.username = 'abort-after-audit' THEN
          RAISE EXCEPTION 'aborted at commit, after the audit event was written';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER test_audit_in_commit AFTER INSERT ON users
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.tenant_id LIKE '${PREFIX}%') EXECUTE FUNCTION test_audit_in_commit()`);
  });
  afterAll(async () => {
    await t?.close();
    await db.query('DROP TRIGGER IF EXISTS test_audit_in_commit ON users');
    await db.query('DROP FUNCTION IF EXISTS test_audit_in_commit()');
    await db.end();
  });

  const count = async (sql: string, params: unknown[]) =>
    Number((await db.query(sql, params)).rows[0].n);

  it('the create commits with its event; an abort at commit leaves neither', async () => {
    const { tenantId, key } = await newTenant(
      t,
      ['users:write', 'audit:read'],
      {},
      uniqueTenantId(PREFIX.slice(0, -1)),
    );
    const created = await t.http('POST', `/api/v1/tenants/${tenantId}/users`, {
      key,
      body: { username: 'carol', email: 'carol@example.com' },
    });
    expect(created.status).toBe(201);
    // The row the trigger saw is the event, naming the new user.
    const events = await db.query(
      `SELECT subject_id FROM audit_events WHERE tenant_id = $1 AND type = 'admin.user.create'`,
      [tenantId],
    );
    expect(events.rows).toEqual([{ subject_id: created.body.user_id }]);

    const other = await newTenant(t, ['users:write'], {}, uniqueTenantId(PREFIX.slice(0, -1)));
    const aborted = await t.http('POST', `/api/v1/tenants/${other.tenantId}/users`, {
      key: other.key,
      body: { username: 'abort-after-audit', email: 'abort@example.com' },
    });
    expect(aborted.status).toBeGreaterThanOrEqual(500);
    expect(
      await count('SELECT count(*) AS n FROM users WHERE tenant_id = $1', [other.tenantId]),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1 AND type LIKE 'admin.user.%'`,
        [other.tenantId],
      ),
    ).toBe(0);
  });

  it('users/batch: every created user has its event in the batch commit', async () => {
    // The trigger (on this tenant's users) refuses the batch unless its events are already in.
    const { tenantId, key } = await newTenant(
      t,
      ['users:write'],
      {},
      uniqueTenantId(PREFIX.slice(0, -1)),
    );
    const batch = await t.http('POST', `/api/v1/tenants/${tenantId}/users/batch`, {
      key,
      body: { users: [{ username: 'b1' }, { username: 'b2' }] },
    });
    expect(batch.status).toBe(200);
    // Read at once, no flush: the events were in before the answer.
    const rows = await db.query(
      `SELECT subject_id FROM audit_events WHERE tenant_id = $1 AND type = 'admin.user.create'`,
      [tenantId],
    );
    expect(rows.rows.map((r) => r.subject_id).toSorted()).toEqual(
      [...batch.body.created_user_ids].toSorted(),
    );
  });
});
