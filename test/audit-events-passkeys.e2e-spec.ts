import { AuditService } from '../src/audit/audit.service.js';
import { PasskeysService } from '../src/passkeys/passkeys.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';
import { userToken } from './user-token-support.js';
import { SoftAuthenticator } from './webauthn-support.js';

const UA = 'audit-passkeys-test/1.0';

/** Passkey registration, renaming, removal and use are logged with the user as actor. */
describe('audit events: passkeys', () => {
  let t: TestApp;
  let rpId: string;
  beforeAll(async () => {
    t = await startTestApp();
    rpId = new URL(t.baseUrl).hostname;
  });
  afterAll(() => t.close());

  async function events(tenantId: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?type=${type}`);
    expect(r.status).toBe(200);
    return r.body.data as Array<Record<string, unknown> & { type: string }>;
  }

  it('records registered, renamed, used and deleted', async () => {
    const { tenantId, key } = await newTenant(t, ['users:write', 'api-keys:write']);
    const user = await t.http('POST', `/api/v1/tenants/${tenantId}/users`, {
      key,
      body: { username: 'gina', password: 'correct horse battery staple' },
    });
    const userId = user.body.user_id as string;
    // Gina's own token from a fresh sign-in: passkey changes ask for it.
    const userKey = await userToken(t, tenantId, 'gina', 'correct horse battery staple');
    const base = `/api/v1/tenants/${tenantId}/me/passkeys`;
    const headers = { 'user-agent': UA };

    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    const opts = await t.http('POST', `${base}/registration-options`, { key: userKey, headers });
    const reg = await t.http('POST', `${base}/registration`, {
      key: userKey,
      headers,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
        name: 'Laptop',
      },
    });
    expect(reg.status).toBe(201);
    const passkeyId = reg.body.passkey_id as string;
    const renamed = await t.http('PATCH', `${base}/${passkeyId}`, {
      key: userKey,
      headers,
      body: { name: 'Work laptop' },
    });
    expect(renamed.status).toBe(200);

    const passkeys = t.app.get(PasskeysService);
    const a = await passkeys.authenticationOptions(tenantId, 'gina');
    const signedIn = await passkeys.verifyAuthentication(
      tenantId,
      a.challenge_id,
      authr.assert(a.options.challenge) as never,
      { ip: '192.0.2.5', userAgent: 'browser' },
    );
    expect(signedIn).toBe(userId);

    expect((await t.http('DELETE', `${base}/${passkeyId}`, { key: userKey, headers })).status).toBe(
      204,
    );

    const all = await events(tenantId, 'passkey.*');
    expect(all.map((e) => e.type).toReversed()).toEqual([
      'passkey.registered',
      'passkey.renamed',
      'passkey.used',
      'passkey.deleted',
    ]);
    for (const e of all) {
      expect(e).toMatchObject({
        actor_type: 'user',
        actor_id: userId,
        subject_id: userId,
        method: 'passkey',
        outcome: 'success',
        details: expect.objectContaining({ passkey_id: passkeyId }),
      });
    }
    const byType = Object.fromEntries(all.map((e) => [e.type, e]));
    expect(byType['passkey.registered']).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
    expect(byType['passkey.renamed'].details).toMatchObject({
      name: 'Work laptop',
      previous_name: 'Laptop',
    });
    expect(byType['passkey.used']).toMatchObject({ ip: '192.0.2.5', user_agent: 'browser' });
    expect(byType['passkey.deleted']).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
  });
});
