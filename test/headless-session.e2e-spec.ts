import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './harness.js';
import { headlessTenant } from './headless-support.js';
import { PASSWORD } from './fixtures.js';
import { userToken } from './user-token-support.js';

const P = (code: string) => `urn:idp:problem:${code}`;

/** The seed's session endpoints on the tenant's own session: validate, user-info, set-session, logout. */
describe('headless session endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** A custom UI that signed alice in: its jar holds the tenant's session cookie. */
  async function signedInUi() {
    const h = await headlessTenant(t);
    const ui = h.ui();
    const id = (await ui.start()).body.auth_req_id as string;
    const done = await ui.post('password', { auth_req_id: id, login: 'alice', password: PASSWORD });
    await ui.finish(done.body.finish_url);
    return { h, ui };
  }

  it('validates the cookie session and renews it past half its lifetime', async () => {
    const { h, ui } = await signedInUi();
    const v = await ui.post('validate', {});
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({
      valid: true,
      user_id: h.userId,
      renewed: false,
      via: 'session',
    });
    const db = t.app.get(DataSource);
    const soon = Math.floor(Date.now() / 1000) + 60;
    await db.query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{exp}', to_jsonb($2::int))
        WHERE tenant_id = $1 AND model = 'Session'`,
      [h.tenantId, soon],
    );
    const renewed = await ui.post('validate', {});
    expect(renewed.body.renewed).toBe(true);
    expect(Date.parse(renewed.body.expires_at)).toBeGreaterThan(soon * 1000 + 3600_000);
    // Without a cookie, or from another site: no session.
    const bare = await ui.post('validate', {}, { cookie: '' });
    expect([bare.status, bare.body.type]).toEqual([401, P('session-invalid')]);
    const evil = await ui.post('validate', {}, { origin: 'https://evil.test' });
    expect([evil.status, evil.body.type]).toEqual([403, P('authn-origin-refused')]);
  });

  it('user-info answers the user with session and tenant context, by cookie or Bearer', async () => {
    const { h, ui } = await signedInUi();
    const info = await ui.post('user-info', {});
    expect(info.status).toBe(200);
    expect(info.body.user.user_id).toBe(h.userId);
    expect(info.body.tenant.tenant_id).toBe(h.tenantId);
    expect(info.body.session.session_id).toEqual(expect.any(String));
    const token = await userToken(t, h.tenantId, 'alice', PASSWORD);
    const byToken = await ui.post(
      'user-info',
      {},
      { authorization: `Bearer ${token}`, cookie: '' },
    );
    expect(byToken.body).toMatchObject({ via: 'token', user: { user_id: h.userId } });
    const junk = await ui.post(
      'user-info',
      {},
      { authorization: 'Bearer nonsense-token-value-000' },
    );
    expect(junk.status).toBe(401);
  });

  it("set-session gives a browser the session of the user's own recent token; logout ends it", async () => {
    const h = await headlessTenant(t);
    const token = await userToken(t, h.tenantId, 'alice', PASSWORD);
    const ui = h.ui();
    expect((await ui.post('validate', {})).status).toBe(401);
    const set = await ui.post('set-session', {}, { authorization: `Bearer ${token}` });
    expect(set.status).toBe(200);
    const v = await ui.post('validate', {});
    expect(v.body).toMatchObject({ valid: true, via: 'session', session_id: set.body.session_id });

    const out = await ui.post('logout', {});
    expect(out.status).toBe(204);
    expect((await ui.post('validate', {})).status).toBe(401);
    // The session's grants ended with it: the token is gone too.
    expect((await t.http('GET', `/api/v1/tenants/${h.tenantId}/me`, { key: token })).status).toBe(
      401,
    );
    const scopeLess = await userToken(t, h.tenantId, 'alice', PASSWORD, 'openid profile');
    const refused = await h.ui().post('set-session', {}, { authorization: `Bearer ${scopeLess}` });
    expect(refused.status).toBe(403);
  });
});
