import * as client from 'openid-client';
import { app, REDIRECT, signedIn } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { oauthError } from './oidc-support.js';

/** A public SPA-like client with refresh tokens (no consent page). */
const publicApp = (extra: Record<string, unknown> = {}) => ({
  client_type: 'public',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  allowed_scopes: ['openid', 'profile', 'offline_access'],
  first_party: true,
  ...extra,
});

/** DPoP (RFC 9449) through openid-client: sender-constrained access and refresh tokens. */
describe('DPoP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('binds a public client’s access and refresh tokens to its key', async () => {
    const x = await app(t, { client: publicApp() });
    const doc = (await t.http('GET', `/${x.tenantId}/.well-known/openid-configuration`)).body;
    expect(doc.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));

    const DPoP = client.getDPoPHandle(x.config, await client.randomDPoPKeyPair('ES256'));
    const s = await signedIn(x.config, { scope: 'openid profile offline_access' });
    const tokens = await client.authorizationCodeGrant(
      x.config,
      s.callback,
      { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    expect(tokens.refresh_token).toBeDefined();
    const sub = tokens.claims()!.sub;

    // The resource (userinfo) takes the token with a proof of the same key, not as a Bearer.
    expect((await client.fetchUserInfo(x.config, tokens.access_token, sub, { DPoP })).sub).toBe(
      sub,
    );
    const bearer = await fetch(`${t.baseUrl}/${x.tenantId}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(bearer.status).toBe(401);

    // A stolen refresh token is useless without the key: another key is refused...
    const thief = client.getDPoPHandle(x.config, await client.randomDPoPKeyPair('ES256'));
    expect(
      await oauthError(
        client.refreshTokenGrant(x.config, tokens.refresh_token!, undefined, { DPoP: thief }),
      ),
    ).toBe('invalid_grant');
    // ...and so is no proof at all; the right key refreshes.
    expect(await oauthError(client.refreshTokenGrant(x.config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    const refreshed = await client.refreshTokenGrant(x.config, tokens.refresh_token!, undefined, {
      DPoP,
    });
    expect(refreshed.token_type).toBe('dpop');
  });

  it('a client set to dpop_bound_access_tokens gets no token without a proof', async () => {
    const x = await app(t, { client: publicApp({ dpop_bound_access_tokens: true }) });
    const read = await t.http('GET', `/api/v1/tenants/${x.tenantId}/clients/${x.c.client_id}`);
    expect(read.body.dpop_bound_access_tokens).toBe(true);
    const s = await signedIn(x.config, { scope: 'openid profile' });
    expect(
      await oauthError(
        client.authorizationCodeGrant(x.config, s.callback, {
          pkceCodeVerifier: s.verifier,
          expectedState: s.state,
          expectedNonce: s.nonce,
        }),
      ),
    ).toBe('invalid_grant');

    const DPoP = client.getDPoPHandle(x.config, await client.randomDPoPKeyPair('ES256'));
    const s2 = await signedIn(x.config, { scope: 'openid profile' });
    const tokens = await client.authorizationCodeGrant(
      x.config,
      s2.callback,
      { pkceCodeVerifier: s2.verifier, expectedState: s2.state, expectedNonce: s2.nonce },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
  });
});
