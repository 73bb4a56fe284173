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

  /**
   * Deferred triggers on the rows of tenants named `prefix…`: a user insert needs its
   * scim.user.created event, a group insert its scim.group.created event, a user (de)activation
   * its scim.user.updated event, each naming the row and already in the committing transaction;
   * a group named abort-after-audit is aborted at commit, after its event was written.
   */
  async function withCommitTriggers(prefix: string, run: () => Promise<void>) {
    await db.query(`
      CREATE OR REPLACE FUNCTION test_bulk_audit_in_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE wanted text; subject text;
      BEGIN
        IF TG_TABLE_NAME = 'groups' THEN
          wanted := 'scim.group.created'; subject := NEW.group_id::text;
        ELSIF TG_OP = 'INSERT' THEN
          wanted := 'scim.user.created'; subject := NEW.user_id::text;
        ELSE
          wanted := 'scim.user.updated'; subject := NEW.user_id::text;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM audit_events
                        WHERE tenant_id = NEW.tenant_id AND type = wanted AND subject_id = subject) THEN
          RAISE EXCEPTION 'no % event in the transaction of %', wanted, subject;
        END IF;
        IF TG_TABLE_NAME = 'groups' THEN
          IF NEW.name = 'abort-after-audit' THEN
            RAISE EXCEPTION 'aborted at commit, after the audit event was written';
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    const when = `WHEN (NEW.tenant_id LIKE '${prefix}%')`;
    await db.query(`
      CREATE CONSTRAINT TRIGGER test_bulk_users AFTER INSERT ON users DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW ${when} EXECUTE FUNCTION test_bulk_audit_in_commit()`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER test_bulk_users_active AFTER UPDATE ON users
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.tenant_id LIKE '${prefix}%' AND OLD.is_disabled IS DISTINCT FROM NEW.is_disabled)
        EXECUTE FUNCTION test_bulk_audit_in_commit()`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER test_bulk_groups AFTER INSERT ON groups DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW ${when} EXECUTE FUNCTION test_bulk_audit_in_commit()`);
    try {
      await run();
    } finally {
      for (const [name, table] of [
        ['test_bulk_users', 'users'],
        ['test_bulk_users_active', 'users'],
        ['test_bulk_groups', 'groups'],
      ])
        await db.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
      await db.query('DROP FUNCTION IF EXISTS test_bulk_audit_in_commit()');
    }
  }

  it('SCIM Bulk: each committed operation has its event in its own commit, a failed one none', async () => {
    await withCommitTriggers('auditbulk-', async () => {
      const { tenantId, key } = await newTenant(t, ['scim'], {}, uniqueTenantId('auditbulk'));
      const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
      const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
      const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
      const bulk = await t.http('POST', `/${tenantId}/scim/v2/Bulk`, {
        key: null,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/scim+json' },
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
          Operations: [
            {
              method: 'POST',
              path: '/Users',
              bulkId: 'ann',
              data: { schemas: [USER], userName: 'ann' },
            },
            // A duplicate in the same run of creates: refused, no event.
            {
              method: 'POST',
              path: '/Users',
              bulkId: 'dup',
              data: { schemas: [USER], userName: 'ANN' },
            },
            {
              method: 'POST',
              path: '/Groups',
              bulkId: 'eng',
              data: { schemas: [GROUP], displayName: 'eng', members: [{ value: 'bulkId:ann' }] },
            },
            {
              method: 'PATCH',
              path: '/Users/bulkId:ann',
              data: {
                schemas: [PATCH],
                Operations: [{ op: 'replace', path: 'active', value: false }],
              },
            },
            // Not found: refused, no event.
            { method: 'DELETE', path: '/Users/7d0c2f4e-3a1b-4c5d-8e9f-0a1b2c3d4e5f' },
            // Aborted at commit after its event was written: neither the group nor the event.
            {
              method: 'POST',
              path: '/Groups',
              bulkId: 'abort',
              data: { schemas: [GROUP], displayName: 'abort-after-audit' },
            },
          ],
        },
      });
      expect(bulk.status).toBe(200);
      const results = bulk.body.Operations as Array<{ status: string; location?: string }>;
      expect(results.map((r) => r.status)).toEqual(['201', '409', '201', '200', '404', '500']);
      const idOf = (i: number) => results[i].location!.split('/').at(-1)!;
      const events = await db.query(
        `SELECT type, subject_id, details->>'operation' AS operation FROM audit_events
          WHERE tenant_id = $1 AND type LIKE 'scim.%' ORDER BY type`,
        [tenantId],
      );
      expect(events.rows).toEqual([
        { type: 'scim.group.created', subject_id: idOf(2), operation: 'post' },
        { type: 'scim.user.created', subject_id: idOf(0), operation: 'post' },
        { type: 'scim.user.updated', subject_id: idOf(0), operation: 'patch' },
      ]);
      expect(await count(`SELECT count(*) AS n FROM groups WHERE tenant_id = $1`, [tenantId])).toBe(
        1,
      );
    });
  });

  it('SCIM single-resource writes: each has its event in its own commit, a refused one none', async () => {
    await withCommitTriggers('auditscim-', async () => {
      const { tenantId, key } = await newTenant(t, ['scim'], {}, uniqueTenantId('auditscim'));
      const scim = (method: string, path: string, body?: unknown) =>
        t.http(method, `/${tenantId}/scim/v2${path}`, {
          key: null,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
          },
          ...(body === undefined ? {} : { body }),
        });
      const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
      const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
      const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
      const ann = await scim('POST', '/Users', { schemas: [USER], userName: 'ann' });
      expect(ann.status).toBe(201);
      expect((await scim('POST', '/Users', { schemas: [USER], userName: 'ANN' })).status).toBe(409);
      const off = await scim('PATCH', `/Users/${ann.body.id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      });
      expect(off.status).toBe(200);
      const eng = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'eng' });
      expect(eng.status).toBe(201);
      expect((await scim('DELETE', '/Users/7d0c2f4e-3a1b-4c5d-8e9f-0a1b2c3d4e5f')).status).toBe(
        404,
      );
      // Aborted at commit after its event was written: neither the group nor the event.
      const aborted = await scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'abort-after-audit',
      });
      expect(aborted.status).toBeGreaterThanOrEqual(500);
      const events = await db.query(
        `SELECT type, subject_id, details->>'operation' AS operation, details->>'active' AS active
           FROM audit_events WHERE tenant_id = $1 AND type LIKE 'scim.%' ORDER BY type`,
        [tenantId],
      );
      expect(events.rows).toEqual([
        { type: 'scim.group.created', subject_id: eng.body.id, operation: 'create', active: null },
        { type: 'scim.user.created', subject_id: ann.body.id, operation: 'create', active: 'true' },
        { type: 'scim.user.updated', subject_id: ann.body.id, operation: 'patch', active: 'false' },
      ]);
      expect(await count(`SELECT count(*) AS n FROM groups WHERE tenant_id = $1`, [tenantId])).toBe(
        1,
      );
    });
  });
});
