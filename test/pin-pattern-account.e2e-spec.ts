import { startTestApp, type TestApp } from './harness.js';
import { PASSWORD, tenant, user } from './fixtures.js';
import { auxProof, changePin, pinSignIn } from './pin-pattern-support.js';
import { userToken } from './user-token-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

/**
 * A signed-in user sets and changes a PIN/pattern with their own token, re-proves it
 * (aux-challenge), and an admin resets it.
 */
const SETTINGS = { use_pin: true, pin_size: 4, use_pattern: true, login_order: ['PATTERN', 'PIN'] };
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS } as never)!;
const FIRST = secretOf(policy, { pin: '1357', pattern: [6, 3, 0, 1, 2] });
const SECOND = secretOf(policy, { pin: '8642', pattern: [0, 1, 2, 5, 8] });

describe('PIN/pattern for a signed-in user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('sets, changes, re-proves and resets', async () => {
    const { tenantId } = await tenant(t, { settings: SETTINGS });
    const u = await user(t, tenantId, { email: null });
    const token = await userToken(t, tenantId, 'alice', PASSWORD);
    const me = (path = 'me') =>
      t.http('GET', `/${tenantId}/authn/zkp/${path}`, {
        key: null,
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await me()).body).toMatchObject({ enrolled: false, factors: [] });
    // Not signed in: the signed-in routes refuse, and sign-up is closed here.
    const anon = await t.http('POST', `/${tenantId}/authn/zkp/change/start`, {
      key: null,
      body: { registration_request: 'AAAA' },
    });
    expect(anon.status).toBe(401);

    const set = await changePin(t, tenantId, token, FIRST);
    expect(set.status).toBe(200);
    expect(set.body.factors).toEqual(['PATTERN', 'PIN']);
    expect((await me()).body).toMatchObject({ enrolled: true, factors: ['PATTERN', 'PIN'] });
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).authenticate?.status).toBe(200);

    // Re-proving: right, then wrong (refused, and counted like a sign-in).
    const proof = await auxProof(t, tenantId, token, FIRST);
    expect(proof.status).toBe(200);
    expect(proof.body).toEqual({ verified: true });
    expect((await auxProof(t, tenantId, token, SECOND)).status).toBe(401);

    // Change: the old secret stops working, the new one works.
    expect((await changePin(t, tenantId, token, SECOND)).status).toBe(200);
    expect((await pinSignIn(t, tenantId, 'alice', FIRST)).finished).toBe(false);
    expect((await pinSignIn(t, tenantId, 'alice', SECOND)).authenticate?.status).toBe(200);

    // An admin's reset: gone, and the next sign-in cannot finish.
    const admin = `/api/v1/tenants/${tenantId}/users/${u.user_id}/pin-pattern`;
    expect((await t.http('GET', admin)).body.enrolled).toBe(true);
    expect((await t.http('DELETE', admin)).status).toBe(204);
    expect((await t.http('DELETE', admin)).status).toBe(404);
    expect((await pinSignIn(t, tenantId, 'alice', SECOND)).finished).toBe(false);
  });
});
