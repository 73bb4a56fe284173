import { generate } from 'otplib';
import { AuditService } from '../src/audit/audit.service.js';
import { ProblemException } from '../src/common/problem.js';
import { toProblemException } from '../src/common/problem.filter.js';
import { LoginCodeService } from '../src/email-flows/login-code.service.js';
import { PasskeysService } from '../src/passkeys/passkeys.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { userToken } from './user-token-support.js';
import { PASSWORD } from './fixtures.js';

const limits = (ip: number, user: number) => ({
  block_config: {
    ip: { max_attempts: ip, window_seconds: 300, block_seconds: 900 },
    user: { max_attempts: user, window_seconds: 300, block_seconds: 900 },
  },
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

/** A well-formed body for a public email-link route, with a token nobody issued. */
const body = (route: string) => ({
  token: 'not-a-real-token-0123456789',
  ...(route.startsWith('password') ? { password: 'long enough password' } : {}),
});

/**
 * Credential checks outside the login pages go through the brute-force blocker: self-service
 * TOTP and recovery codes, the public email-link routes, passkey assertions and email sign-in
 * codes. TRUST_PROXY lets the test speak from several addresses.
 */
describe('blocker: credential checks outside the login pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(() => t.close());

  async function userWithKey(settings: Record<string, unknown>) {
    const tenant = await newTenant(t, ['users:write', 'api-keys:write', 'blocker:write'], settings);
    const base = `/api/v1/tenants/${tenant.tenantId}`;
    const user = await t.http('POST', `${base}/users`, {
      key: tenant.key,
      body: { username: 'alice', email: 'alice@example.test', password: PASSWORD },
    });
    expect(user.status).toBe(201);
    return {
      ...tenant,
      base,
      userId: user.body.user_id as string,
      /** Alice's own token from a fresh sign-in: TOTP changes ask for it. */
      userKey: await userToken(t, tenant.tenantId, 'alice', PASSWORD),
    };
  }

  it('blocks TOTP guessing through the self-service API per IP (429 + Retry-After), not another IP', async () => {
    // The per-user pause is at five wrong codes; the IP limit of three comes first.
    const u = await userWithKey(limits(3, 100));
    const totp = `${u.base}/me/totp`;
    const enrol = await t.http('POST', totp, { key: u.userKey });
    const secret = enrol.body.secret as string;
    const ip = '203.0.113.40';
    const now = Math.floor(Date.now() / 1000);
    const window = await Promise.all([-30, 0, 30].map((d) => generate({ secret, epoch: now + d })));
    const wrong = ['000000', '000001', '000002'].find((c) => !window.includes(c))!;
    for (let i = 0; i < 3; i++) {
      const r = await t.http('POST', `${totp}/confirm`, {
        key: u.userKey,
        body: { code: wrong },
        headers: from(ip),
      });
      expect(r.status).toBe(400);
    }
    const right = await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    const blocked = await t.http('POST', `${totp}/confirm`, {
      key: u.userKey,
      body: { code: right },
      headers: from(ip),
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body.type).toBe('urn:idp:problem:too-many-requests');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(890);
    const elsewhere = await t.http('POST', `${totp}/confirm`, {
      key: u.userKey,
      body: { code: right },
      headers: from('203.0.113.41'),
    });
    expect(elsewhere.status).toBe(200);

    // Recovery-code guesses count too, and an unblocked address is served again.
    expect(
      (
        await t.http('DELETE', `/api/v1/tenants/${u.tenantId}/blocked-ips/${ip}`, {
          key: u.key,
        })
      ).status,
    ).toBe(204);
    for (let i = 0; i < 3; i++) {
      const r = await t.http('DELETE', totp, {
        key: u.userKey,
        body: { code: `aaaa-bbbb-${i}` },
        headers: from(ip),
      });
      expect(r.status).toBe(400);
    }
    const stillOn = await t.http('DELETE', totp, {
      key: u.userKey,
      body: { code: elsewhere.body.recovery_codes[0] },
      headers: from(ip),
    });
    expect(stillOn.status).toBe(429);

    await t.app.get(AuditService).flush();
    const failures = await t.http(
      'GET',
      `/api/v1/tenants/${u.tenantId}/audit-events?type=mfa.verify.failure`,
    );
    expect(failures.body.data.map((e: { method: string }) => e.method)).toEqual([
      'recovery_code',
      'recovery_code',
      'recovery_code',
      'totp',
      'totp',
      'totp',
    ]);
    expect(failures.body.data[0]).toMatchObject({ ip, actor_id: u.userId, outcome: 'failure' });
    const blocks = await t.http(
      'GET',
      `/api/v1/tenants/${u.tenantId}/audit-events?type=blocker.block`,
    );
    expect(blocks.body.data.map((e: { method: string }) => e.method)).toEqual([
      'recovery_code',
      'totp',
    ]);
  });

  it('limits the public email-link routes per IP', async () => {
    const { tenantId } = await newTenant(t, ['users:write'], limits(3, 100));
    const ip = '198.51.100.60';
    const routes = ['email/verify', 'email/confirm-change', 'password-reset/confirm'];
    for (const route of routes) {
      const r = await t.http('POST', `/api/v1/tenants/${tenantId}/${route}`, {
        key: null,
        body: body(route),
        headers: from(ip),
      });
      expect(r.status).toBe(400);
    }
    for (const route of routes) {
      const r = await t.http('POST', `/api/v1/tenants/${tenantId}/${route}`, {
        key: null,
        body: body(route),
        headers: from(ip),
      });
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Another address is served.
    const other = await t.http('POST', `/api/v1/tenants/${tenantId}/email/verify`, {
      key: null,
      body: { token: 'not-a-real-token-0123456789' },
      headers: from('198.51.100.61'),
    });
    expect(other.status).toBe(400);
    const reset = await t.http('POST', `/api/v1/tenants/${tenantId}/password-reset`, {
      key: null,
      body: { email: 'someone@example.test' },
      headers: from(ip),
    });
    expect(reset.status).toBe(429);
  });

  it('counts failed passkey assertions per IP when the caller passes the request context', async () => {
    const { tenantId } = await newTenant(t, ['users:write'], limits(2, 100));
    const passkeys = t.app.get(PasskeysService);
    const ctx = { ip: '192.0.2.90', userAgent: 'test' };
    const bogus = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} } as never;
    for (let i = 0; i < 2; i++) {
      const { challenge_id } = await passkeys.authenticationOptions(tenantId);
      // The service refuses; the API would answer this refusal as below.
      const err = await passkeys.verifyAuthentication(tenantId, challenge_id, bogus, ctx).then(
        () => null,
        (e: unknown) => toProblemException(e),
      );
      expect((err as ProblemException).status).toBe(400);
    }
    const { challenge_id } = await passkeys.authenticationOptions(tenantId);
    const err = await passkeys.verifyAuthentication(tenantId, challenge_id, bogus, ctx).then(
      () => null,
      (e: unknown) => toProblemException(e),
    );
    expect(err).toBeInstanceOf(ProblemException);
    expect((err as ProblemException).status).toBe(429);
    expect((err as ProblemException).headers?.['retry-after']).toEqual(expect.any(String));
  });

  it('answers a blocked email sign-in code like a wrong one and counts misses per address', async () => {
    const { tenantId } = await newTenant(t, ['users:write'], limits(100, 3));
    const codes = t.app.get(LoginCodeService);
    const ctx = { ip: '192.0.2.91' };
    for (let i = 0; i < 3; i++)
      expect(await codes.consume(tenantId, 'Nobody@Example.test', '123456', ctx)).toBeNull();
    const users = await t.http('GET', `/api/v1/tenants/${tenantId}/blocked-users`);
    expect(users.body.data.map((b: { username: string }) => b.username)).toEqual([
      'nobody@example.test',
    ]);
  });
});
