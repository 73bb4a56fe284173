import { DataSource } from 'typeorm';
import * as client from 'openid-client';
import { startTestApp, type TestApp } from './harness.js';
import { userSignIn, userToken } from './user-token-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { AuditService } from '../src/audit/audit.service.js';

const P = (code: string) => `urn:idp:problem:${code}`;

/** The /me additions of #18, called with the user's own access token. */
describe('self-service with the user own token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup() {
    const tenant = await fixtures.tenant(t);
    const user = await fixtures.user(t, tenant.tenantId, { email: 'alice@example.test' });
    return { ...tenant, userId: user.user_id, base: `/api/v1/tenants/${tenant.tenantId}/me` };
  }

  it('reads /me, changes the profile and the password (current password required)', async () => {
    const u = await setup();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    expect((await t.http('GET', u.base, { key: token })).body.user_id).toBe(u.userId);
    const patched = await t.http('PATCH', u.base, {
      key: token,
      body: {
        display_name: 'Alice A.',
        locale: 'pt-BR',
        picture: 'https://img.example.test/a.png',
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      display_name: 'Alice A.',
      locale: 'pt-BR',
      picture: 'https://img.example.test/a.png',
    });
    const http = await t.http('PATCH', u.base, {
      key: token,
      body: { picture: 'http://img.example.test/a.png' },
    });
    expect(http.status).toBe(400);
    const sneaky = await t.http('PATCH', u.base, { key: token, body: { username: 'root' } });
    expect(sneaky.status).toBe(400);

    const wrong = await t.http('PUT', `${u.base}/password`, {
      key: token,
      body: { current_password: 'not it', new_password: 'a brand new passphrase' },
    });
    expect([wrong.status, wrong.body.type]).toEqual([403, P('current-password-wrong')]);
    const ok = await t.http('PUT', `${u.base}/password`, {
      key: token,
      body: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(ok.status).toBe(204);
    await expect(userToken(t, u.tenantId, 'alice', PASSWORD)).rejects.toThrow();
    expect(await userToken(t, u.tenantId, 'alice', 'a brand new passphrase')).toEqual(
      expect.any(String),
    );
  });

  it('lists the consented apps and revokes one: its refresh token stops working', async () => {
    const u = await setup();
    const { config, tokens } = await userSignIn(
      t,
      u.tenantId,
      'alice',
      PASSWORD,
      'openid account offline_access',
    );
    const token = tokens.access_token;
    const apps = await t.http('GET', `${u.base}/apps`, { key: token });
    expect(apps.status).toBe(200);
    expect(apps.body.total_count).toBe(1);
    const app = apps.body.data[0];
    expect(app).toMatchObject({ name: 'Account app', scopes: expect.arrayContaining(['account']) });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const other = await setup();
    const otherToken = await userToken(t, other.tenantId, 'alice', PASSWORD);
    const cross = await t.http('DELETE', `${u.base}/apps/${app.client_id}`, { key: otherToken });
    expect(cross.status).toBe(401);

    const revoked = await t.http('DELETE', `${u.base}/apps/${app.client_id}`, { key: token });
    expect(revoked.status).toBe(204);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toThrow();
    expect((await t.http('GET', u.base, { key: token })).status).toBe(401);
    const again = await userToken(t, u.tenantId, 'alice', PASSWORD);
    expect((await t.http('DELETE', `${u.base}/apps/nope`, { key: again })).status).toBe(404);
  });

  it('own API keys: me scopes only, listed, regenerated, deleted; own audit trail', async () => {
    const u = await setup();
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    const tooMuch = await t.http('POST', `${u.base}/api-keys`, {
      key: token,
      body: { name: 'script', scopes: ['users:write'] },
    });
    expect(tooMuch.status).toBe(400);
    const created = await t.http('POST', `${u.base}/api-keys`, {
      key: token,
      body: { name: 'script', scopes: ['me:read'] },
    });
    expect(created.status).toBe(201);
    const key = created.body.api_key as string;
    expect((await t.http('GET', u.base, { key })).body.user_id).toBe(u.userId);
    // The key itself cannot mint keys: that takes a recent sign-in.
    const byKey = await t.http('POST', `${u.base}/api-keys`, {
      key,
      body: { name: 'x', scopes: ['me:read'] },
    });
    expect(byKey.status).toBe(403);
    const list = await t.http('GET', `${u.base}/api-keys`, { key: token });
    expect(list.body.data.map((k: { key_id: string }) => k.key_id)).toEqual([created.body.key_id]);
    const regen = await t.http('POST', `${u.base}/api-keys/${created.body.key_id}/regenerate`, {
      key: token,
    });
    expect(regen.status).toBe(200);
    expect((await t.http('GET', u.base, { key })).status).toBe(401);
    const gone = await t.http('DELETE', `${u.base}/api-keys/${created.body.key_id}`, {
      key: token,
    });
    expect(gone.status).toBe(204);
    expect((await t.http('GET', u.base, { key: regen.body.api_key })).status).toBe(401);

    await t.app.get(AuditService).flush();
    const audit = await t.http('GET', `${u.base}/audit?type=login.*`, { key: token });
    expect(audit.status).toBe(200);
    expect(audit.body.data.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.data.every((e: { subject_id: string }) => e.subject_id === u.userId)).toBe(
      true,
    );
  });

  it('logout ends the token session; logout-all ends every session', async () => {
    const u = await setup();
    const one = await userToken(t, u.tenantId, 'alice', PASSWORD);
    const two = await userToken(t, u.tenantId, 'alice', PASSWORD);
    expect((await t.http('POST', `${u.base}/logout`, { key: one })).status).toBe(204);
    expect((await t.http('GET', u.base, { key: one })).status).toBe(401);
    expect((await t.http('GET', u.base, { key: two })).status).toBe(200);
    const all = await t.http('POST', `${u.base}/logout-all`, { key: two });
    expect(all.status).toBe(200);
    expect((await t.http('GET', u.base, { key: two })).status).toBe(401);
  });

  it('refuses a token of another tenant, an expired one, one without scope, a stale one for credentials', async () => {
    const u = await setup();
    const other = await setup();
    const foreign = await userToken(t, other.tenantId, 'alice', PASSWORD);
    expect((await t.http('GET', u.base, { key: foreign })).status).toBe(401);
    const plain = await userToken(t, u.tenantId, 'alice', PASSWORD, 'openid profile');
    expect((await t.http('GET', `${u.base}/apps`, { key: plain })).status).toBe(403);
    const token = await userToken(t, u.tenantId, 'alice', PASSWORD);
    const db = t.app.get(DataSource);
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    await db.query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{extra,auth_time}', to_jsonb($3::int))
        WHERE tenant_id = $1 AND model = 'AccessToken' AND id = $2`,
      [u.tenantId, token, hourAgo],
    );
    const stale = await t.http('PUT', `${u.base}/password`, {
      key: token,
      body: { current_password: PASSWORD, new_password: 'another new passphrase' },
    });
    expect([stale.status, stale.body.type]).toEqual([403, P('recent-authentication-required')]);
    expect((await t.http('GET', `${u.base}/api-keys`, { key: token })).status).toBe(200);
    await db.query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload, '{exp}', to_jsonb($3::int))
        WHERE tenant_id = $1 AND model = 'AccessToken' AND id = $2`,
      [u.tenantId, token, hourAgo],
    );
    expect((await t.http('GET', `${u.base}/audit`, { key: token })).status).toBe(401);
  });
});
