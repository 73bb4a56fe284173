import { DataSource } from 'typeorm';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { TotpService } from '../src/mfa/totp.service.js';
import { userToken } from './user-token-support.js';
import { freshStep, PASSWORD, totpCode as code } from './account-support.js';

describe('TOTP and recovery codes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function userWithKey(tenantScopes = ['api-keys:write', 'users:write', 'me:read']) {
    const tenant = await newTenant(t, tenantScopes, { display_name: 'Acme & Co' });
    const user = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/users`, {
      key: tenant.key,
      body: { username: 'alice', email: 'alice@example.test', password: PASSWORD },
    });
    expect(user.status).toBe(201);
    const key = await t.http('POST', `/api/v1/tenants/${tenant.tenantId}/api-keys`, {
      key: tenant.key,
      body: { name: 'alice', scopes: ['me:read'], user_id: user.body.user_id },
    });
    expect(key.status).toBe(201);
    const base = `/api/v1/tenants/${tenant.tenantId}/me/totp`;
    return {
      ...tenant,
      userId: user.body.user_id as string,
      /** An admin-minted user key: it may read TOTP status, never change it. */
      userKey: key.body.api_key as string,
      /** Alice's own token from a fresh sign-in: what enrolment asks for. */
      token: await userToken(t, tenant.tenantId, 'alice', PASSWORD),
      base,
    };
  }

  async function enrolled() {
    const u = await userWithKey();
    const enrol = await t.http('POST', u.base, { key: u.token });
    expect(enrol.status).toBe(201);
    return { ...u, secret: enrol.body.secret as string };
  }

  it('enrols with a secret, an otpauth URI and a QR code, stored sealed', async () => {
    const u = await userWithKey();
    const r = await t.http('POST', u.base, { key: u.token });
    expect(r.status).toBe(201);
    expect(r.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(r.body.otpauth_uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/alice');
    expect(uri.searchParams.get('secret')).toBe(r.body.secret);
    expect(uri.searchParams.get('issuer')).toBe('Acme & Co');
    expect(r.body.qr_png_data_url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{200,}$/);
    const png = Buffer.from(r.body.qr_png_data_url.split(',')[1], 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');

    const db = t.app.get(DataSource);
    const [row] = await db.query(
      'SELECT secret_sealed, is_enabled FROM user_totp WHERE tenant_id = $1 AND user_id = $2',
      [u.tenantId, u.userId],
    );
    expect(row.is_enabled).toBe(false);
    expect(row.secret_sealed).not.toContain(r.body.secret);
    expect(row.secret_sealed).toMatch(/^v1\./);

    const status = await t.http('GET', u.base, { key: u.token });
    expect(status.body).toEqual({
      enabled: false,
      pending: true,
      enabled_at: null,
      recovery_codes_left: 0,
    });
  });

  it('confirms with a code, answers ten recovery codes once, then verifies codes once each', async () => {
    await freshStep();
    const u = await enrolled();
    const svc = t.app.get(TotpService);
    expect(await svc.hasSecondFactor(u.tenantId, u.userId)).toBe(false);
    expect(await svc.verifyTotp(u.tenantId, u.userId, await code(u.secret))).toBe(false);

    const wrong = await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: (Number(await code(u.secret, -1)) ^ 1).toString().padStart(6, '0') },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.type).toBe('urn:idp:problem:invalid-code');

    const ok = await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.enabled).toBe(true);
    expect(ok.body.recovery_codes).toHaveLength(10);
    expect(new Set(ok.body.recovery_codes).size).toBe(10);
    for (const c of ok.body.recovery_codes)
      expect(c).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{2}$/);

    const status = await t.http('GET', u.base, { key: u.token });
    expect(status.body).toMatchObject({ enabled: true, pending: false, recovery_codes_left: 10 });
    expect(status.text).not.toContain(ok.body.recovery_codes[0]);
    expect(await svc.hasSecondFactor(u.tenantId, u.userId)).toBe(true);

    // Replay: the confirm code (step -1), then the current one twice, then an earlier step.
    expect(await svc.verifyTotp(u.tenantId, u.userId, await code(u.secret, -1))).toBe(false);
    const now = await code(u.secret);
    expect(await svc.verifyTotp(u.tenantId, u.userId, now)).toBe(true);
    expect(await svc.verifyTotp(u.tenantId, u.userId, now)).toBe(false);
    // Outside the ±1 window.
    expect(await svc.verifyTotp(u.tenantId, u.userId, await code(u.secret, 3))).toBe(false);
    // Concurrent use of one code: only one wins.
    const next = await code(u.secret, 1);
    const raced = await Promise.all(
      [1, 2, 3].map(() => svc.verifyTotp(u.tenantId, u.userId, next)),
    );
    expect(raced.filter(Boolean)).toHaveLength(1);
    for (const bad of ['', 'abcdef', '1234567', '12345', ' ', '１２３４５６'])
      expect(await svc.verifyTotp(u.tenantId, u.userId, bad)).toBe(false);

    // Confirming twice is a conflict, enrolling again too.
    expect(
      (await t.http('POST', `${u.base}/confirm`, { key: u.token, body: { code: now } })).status,
    ).toBe(409);
    expect((await t.http('POST', u.base, { key: u.token })).status).toBe(409);
  });

  it('spends recovery codes once, regenerates them (old ones die) and disables with a code', async () => {
    await freshStep();
    const u = await enrolled();
    const svc = t.app.get(TotpService);
    const confirmed = await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    const codes: string[] = confirmed.body.recovery_codes;

    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, codes[0].toUpperCase())).toBe(true);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, codes[0])).toBe(false);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, 'zzzz-zzzz-zz')).toBe(false);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, '')).toBe(false);
    const both = await Promise.all([
      svc.consumeRecoveryCode(u.tenantId, u.userId, codes[1]),
      svc.consumeRecoveryCode(u.tenantId, u.userId, codes[1]),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect((await t.http('GET', u.base, { key: u.token })).body.recovery_codes_left).toBe(8);

    // Stored as keyed hashes, never in clear.
    const db = t.app.get(DataSource);
    const rows = await db.query('SELECT code_hash FROM recovery_codes WHERE tenant_id = $1', [
      u.tenantId,
    ]);
    expect(rows).toHaveLength(10);
    for (const r of rows) {
      expect(r.code_hash).toMatch(/^[0-9a-f]{64}$/);
      for (const c of codes) expect(r.code_hash).not.toContain(c.replace(/-/g, ''));
    }

    // Regenerating needs a current code, refuses a wrong or replayed one.
    const bad = await t.http('POST', `${u.base}/recovery-codes`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    expect(bad.status).toBe(400);
    const regen = await t.http('POST', `${u.base}/recovery-codes`, {
      key: u.token,
      body: { code: await code(u.secret) },
    });
    expect(regen.status).toBe(200);
    expect(regen.body.recovery_codes).toHaveLength(10);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, codes[2])).toBe(false);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, regen.body.recovery_codes[0])).toBe(
      true,
    );

    // Disabling: a wrong code is refused; a recovery code works.
    const wrong = await t.http('DELETE', u.base, { key: u.token, body: { code: '000000' } });
    expect(wrong.status).toBe(400);
    expect(
      (
        await t.http('DELETE', u.base, {
          key: u.token,
          body: { code: regen.body.recovery_codes[0] },
        })
      ).status,
    ).toBe(400);
    const off = await t.http('DELETE', u.base, {
      key: u.token,
      body: { code: regen.body.recovery_codes[1] },
    });
    expect(off.status).toBe(204);
    expect((await t.http('GET', u.base, { key: u.token })).body).toMatchObject({
      enabled: false,
      pending: false,
      recovery_codes_left: 0,
    });
    expect(await svc.hasSecondFactor(u.tenantId, u.userId)).toBe(false);
    expect(await svc.consumeRecoveryCode(u.tenantId, u.userId, regen.body.recovery_codes[2])).toBe(
      false,
    );
    expect(
      (await t.http('DELETE', u.base, { key: u.token, body: { code: '123456' } })).status,
    ).toBe(409);
  });

  it('pauses a user after five wrong codes, even for the right one, and recovery codes still work', async () => {
    await freshStep();
    const u = await enrolled();
    const right = await code(u.secret, -1);
    const wrong = right === '000000' ? '000001' : '000000';
    // Parallel guesses count as well as serial ones.
    const guesses = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        t.http('POST', `${u.base}/confirm`, { key: u.token, body: { code: wrong } }),
      ),
    );
    expect(guesses.map((g) => g.status)).toEqual([400, 400, 400, 400, 400]);
    const paused = await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: right },
    });
    expect(paused.status).toBe(429);
    expect(paused.body.type).toBe('urn:idp:problem:too-many-attempts');
    expect(paused.headers.get('retry-after')).toBe('300');

    // Five minutes later the right code is accepted, and a success clears the count.
    const db = t.app.get(DataSource);
    await db.query(
      `UPDATE user_totp SET failed_at = now() - interval '6 minutes' WHERE tenant_id = $1`,
      [u.tenantId],
    );
    const ok = await t.http('POST', `${u.base}/confirm`, { key: u.token, body: { code: right } });
    expect(ok.status).toBe(200);
    const svc = t.app.get(TotpService);
    for (let i = 0; i < 4; i += 1)
      expect(await svc.verifyTotp(u.tenantId, u.userId, wrong)).toBe(false);
    expect(await svc.verifyTotp(u.tenantId, u.userId, await code(u.secret))).toBe(true);
    for (let i = 0; i < 5; i += 1)
      expect(await svc.verifyTotp(u.tenantId, u.userId, wrong)).toBe(false);
    expect(await svc.verifyTotp(u.tenantId, u.userId, await code(u.secret, 1))).toBe(false);
    const [row] = await db.query('SELECT failed_attempts FROM user_totp WHERE tenant_id = $1', [
      u.tenantId,
    ]);
    expect(row.failed_attempts).toBe(5);

    // Paused, a recovery code still turns TOTP off.
    const off = await t.http('DELETE', u.base, {
      key: u.token,
      body: { code: ok.body.recovery_codes[0] },
    });
    expect(off.status).toBe(204);
  });

  it('disables with a current TOTP code', async () => {
    await freshStep();
    const u = await enrolled();
    await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    const off = await t.http('DELETE', u.base, {
      key: u.token,
      body: { code: await code(u.secret) },
    });
    expect(off.status).toBe(204);
  });

  it('lets an admin reset TOTP, with users:write, inside the tenant only', async () => {
    await freshStep();
    const u = await enrolled();
    await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    const path = `/api/v1/tenants/${u.tenantId}/users/${u.userId}/totp`;
    const readOnly = await t.http('POST', `/api/v1/tenants/${u.tenantId}/api-keys`, {
      key: u.key,
      body: { name: 'ro', scopes: [] },
    });
    expect((await t.http('DELETE', path, { key: readOnly.body.api_key })).status).toBe(403);
    // A user key cannot reset anyone's TOTP, not even its own through the admin route.
    expect((await t.http('DELETE', path, { key: u.userKey })).status).toBe(403);
    const other = await newTenant(t, ['users:write']);
    expect((await t.http('DELETE', path, { key: other.key })).status).toBe(404);
    expect(
      (
        await t.http('DELETE', `/api/v1/tenants/${other.tenantId}/users/${u.userId}/totp`, {
          key: other.key,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await t.http('DELETE', `/api/v1/tenants/${u.tenantId}/users/not-a-uuid/totp`, {
          key: u.key,
        })
      ).status,
    ).toBe(404);

    expect((await t.http('DELETE', path, { key: u.key })).status).toBe(204);
    expect((await t.http('GET', u.base, { key: u.token })).body.enabled).toBe(false);
    const again = await t.http('POST', u.base, { key: u.token });
    expect(again.status).toBe(201);
    expect(again.body.secret).not.toBe(u.secret);
  });

  it('keeps /me/totp to user keys and refuses malformed bodies with 400', async () => {
    const u = await userWithKey();
    expect((await t.http('GET', u.base, { key: u.key })).status).toBe(403);
    expect((await t.http('GET', u.base, { key: null })).status).toBe(401);
    // A user key of tenant A on tenant B's path.
    const other = await newTenant(t);
    expect(
      (await t.http('GET', `/api/v1/tenants/${other.tenantId}/me/totp`, { key: u.userKey })).status,
    ).toBe(404);

    await t.http('POST', u.base, { key: u.token });
    for (const body of [
      undefined,
      {},
      { code: 123456 },
      { code: null },
      { code: 'x'.repeat(65) },
      { code: '123456', extra: 1 },
      '[1,2]',
      'not json',
    ]) {
      for (const path of [`${u.base}/confirm`, `${u.base}/recovery-codes`]) {
        const r = await t.http('POST', path, {
          key: u.token,
          body,
          headers: body === 'not json' ? { 'content-type': 'application/json' } : undefined,
        });
        expect([400, 415]).toContain(r.status);
        expect(r.status).toBe(400);
      }
      const d = await t.http('DELETE', u.base, { key: u.token, body });
      expect(d.status).toBe(400);
    }
    // Not enabled yet: regenerating is a conflict, not a crash.
    expect(
      (
        await t.http('POST', `${u.base}/recovery-codes`, {
          key: u.token,
          body: { code: '123456' },
        })
      ).status,
    ).toBe(409);
  });

  it('removes TOTP data with the user', async () => {
    await freshStep();
    const u = await enrolled();
    await t.http('POST', `${u.base}/confirm`, {
      key: u.token,
      body: { code: await code(u.secret, -1) },
    });
    expect(
      (await t.http('DELETE', `/api/v1/tenants/${u.tenantId}/users/${u.userId}`, { key: u.key }))
        .status,
    ).toBe(204);
    const db = t.app.get(DataSource);
    const [{ n }] = await db.query(
      'SELECT (SELECT count(*) FROM user_totp WHERE tenant_id = $1) + (SELECT count(*) FROM recovery_codes WHERE tenant_id = $1) AS n',
      [u.tenantId],
    );
    expect(Number(n)).toBe(0);
  });
});
