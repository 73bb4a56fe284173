import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { OidcPayloadStore } from '../src/oidc/oidc-payload.store.js';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { Browser, createClient, discover, findForm, oauthError, signIn } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD, REDIRECT } from './fixtures.js';

const LOGOUT_REDIRECT = 'http://127.0.0.1:9999/bye';

async function codeFlow(
  config: client.Configuration,
  browser = new Browser(),
  extra: fixtures.SignInOptions = {},
) {
  const s = await fixtures.signedIn(config, { browser, ...extra });
  const tokens = await fixtures.exchange(config, s);
  return { tokens, browser, s };
}

describe('OIDC flows', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup(
    clientBody: Record<string, unknown> = {},
    tenantId = uniqueTenantId('oidcf'),
  ) {
    return fixtures.app(t, {
      tenantId,
      client: fixtures.webApp(REDIRECT, {
        post_logout_redirect_uris: [LOGOUT_REDIRECT],
        allowed_scopes: ['openid', 'profile', 'email', 'offline_access', 'groups'],
        ...clientBody,
      }),
    });
  }

  it('rotates refresh tokens and revokes the grant when an old one comes back', async () => {
    const { config, user } = await setup();
    const { tokens } = await codeFlow(config);
    const rt1 = tokens.refresh_token!;
    expect(rt1).toBeDefined();
    const second = await client.refreshTokenGrant(config, rt1);
    const rt2 = second.refresh_token!;
    expect(rt2).not.toBe(rt1);
    const third = await client.refreshTokenGrant(config, rt2);
    const rt3 = third.refresh_token!;
    expect((await client.fetchUserInfo(config, third.access_token, user.user_id)).sub).toBe(
      user.user_id,
    );

    // Reuse of a rotated token: refused, and everything issued from that grant dies with it.
    expect(await oauthError(client.refreshTokenGrant(config, rt1))).toBe('invalid_grant');
    expect(await oauthError(client.refreshTokenGrant(config, rt3))).toBe('invalid_grant');
    expect(await oauthError(client.fetchUserInfo(config, third.access_token, user.user_id))).toBe(
      'invalid_token',
    );
  });

  it('introspects and revokes tokens', async () => {
    const { config, c, user } = await setup();
    const { tokens } = await codeFlow(config);
    const active = await client.tokenIntrospection(config, tokens.access_token);
    expect(active).toMatchObject({ active: true, sub: user.user_id, client_id: c.client_id });
    const rt = await client.tokenIntrospection(config, tokens.refresh_token!);
    expect(rt.active).toBe(true);

    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect(await oauthError(client.fetchUserInfo(config, tokens.access_token, user.user_id))).toBe(
      'invalid_token',
    );
    await client.tokenRevocation(config, tokens.refresh_token!);
    expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    expect((await client.tokenIntrospection(config, 'garbage')).active).toBe(false);
  });

  it('signs out with id_token_hint and post_logout_redirect_uri', async () => {
    const { config } = await setup();
    const { tokens, browser } = await codeFlow(config);
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: LOGOUT_REDIRECT,
      state: 'bye-state',
    });
    const page = await browser.get(url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Sign out?</h1>');
    const form = findForm(page.html, '/logout');
    const done = await browser.post(form.action, { ...form.fields, logout: 'yes' });
    expect(done.status).toBe(303);
    const back = new URL(done.location!);
    expect(back.origin + back.pathname).toBe(LOGOUT_REDIRECT);
    expect(back.searchParams.get('state')).toBe('bye-state');

    // The session is gone: a silent request needs a login, and session-bound tokens died.
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const r = await browser.get(silent);
    expect(new URL(r.location!).searchParams.get('error')).toBe('login_required');
    expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );

    // An unregistered post_logout_redirect_uri is not followed.
    const bad = await browser.get(
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'https://evil.example/',
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.location).toBeUndefined();
  });

  it('reuses the session silently (prompt=none) and honours prompt=login and max_age', async () => {
    const { config } = await setup();
    const { browser } = await codeFlow(config);
    const verifier = client.randomPKCECodeVerifier();
    const base = {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's1',
    };
    const silent = await browser.get(
      client.buildAuthorizationUrl(config, { ...base, prompt: 'none' }),
    );
    const cb = new URL(silent.location!);
    expect(cb.searchParams.get('code')).toBeTruthy();
    const tokens = await client.authorizationCodeGrant(config, cb, {
      pkceCodeVerifier: verifier,
      expectedState: 's1',
    });
    expect(tokens.access_token).toBeDefined();

    const forced = await browser.get(
      client.buildAuthorizationUrl(config, { ...base, prompt: 'login', login_hint: 'alice' }),
    );
    expect(forced.location).toMatch(/\/interaction\//);
    const page = await browser.get(forced.location!);
    expect(page.html).toContain('name="password"');
    expect(page.html).toContain('value="alice"');

    const old = await browser.get(
      client.buildAuthorizationUrl(config, { ...base, prompt: 'none', max_age: '0' }),
    );
    expect(new URL(old.location!).searchParams.get('error')).toBe('login_required');
  });

  it('asks for consent once per user and client, and never for first-party clients', async () => {
    const { tenantId, config } = await setup({ first_party: false });
    const first = new Browser();
    const start = await first.get(
      client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    const loginPage = await first.get(start.location!);
    const lf = findForm(loginPage.html, '/login');
    const afterLogin = await first.post(
      lf.action.startsWith('http') ? lf.action : t.baseUrl + lf.action,
      {
        ...lf.fields,
        login: 'alice@example.com',
        password: PASSWORD,
      },
    );
    const resumed = await first.get(afterLogin.location!);
    const consent = await first.get(resumed.location!);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('Allow access?');
    expect(consent.html).toContain('See your email address');
    const cf = findForm(consent.html, '/consent');
    const allowed = await first.post(t.baseUrl + cf.action, cf.fields);
    const done = await first.get(allowed.location!);
    expect(done.location).toMatch(/^http:\/\/127\.0\.0\.1:9999\/cb\?code=/);

    // A new browser (new session): consent given before is remembered.
    await codeFlow(config, new Browser(), { scope: 'openid email', consent: false });

    const fp = await createClient(t, tenantId, {
      client_type: 'public',
      redirect_uris: [REDIRECT],
      first_party: true,
    });
    await codeFlow(await discover(`${t.baseUrl}/${tenantId}`, fp.client_id), new Browser(), {
      consent: false,
    });
  });

  it('completes two sign-ins started in two tabs of one browser', async () => {
    const { config } = await setup({ first_party: true });
    const browser = new Browser();
    const start = async () => {
      const verifier = client.randomPKCECodeVerifier();
      const r = await browser.get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        }),
      );
      return { page: await browser.get(r.location!), verifier };
    };
    const tab1 = await start();
    const tab2 = await start();
    const f1 = findForm(tab1.page.html, '/login');
    const posted = await browser.post(t.baseUrl + f1.action, {
      ...f1.fields,
      login: 'alice',
      password: PASSWORD,
    });
    expect(posted.status).toBe(303);
    const done = await browser.get(posted.location!);
    expect(done.location).toMatch(/\/cb\?code=/);
    // The second tab finds the user signed in and finishes too.
    const f2 = findForm(tab2.page.html, '/login');
    const posted2 = await browser.post(t.baseUrl + f2.action, {
      ...f2.fields,
      login: 'alice',
      password: PASSWORD,
    });
    expect(posted2.status).toBe(303);
    expect((await browser.get(posted2.location!)).location).toMatch(/\/cb\?code=/);
  });

  it('lets the user cancel: the client hears access_denied', async () => {
    const { config } = await setup();
    const browser = new Browser();
    const start = await browser.get(
      client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        state: 'st',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    const page = await browser.get(start.location!);
    const form = findForm(page.html, '/abort');
    const aborted = await browser.post(t.baseUrl + form.action, form.fields);
    const back = await browser.get(aborted.location!);
    const cb = new URL(back.location!);
    expect(cb.searchParams.get('error')).toBe('access_denied');
    expect(cb.searchParams.get('state')).toBe('st');
  });

  it('supports pushed authorization requests', async () => {
    const { config } = await setup();
    const { tokens } = await codeFlow(config, new Browser(), { par: true });
    expect(tokens.id_token).toBeDefined();
  });

  it('runs the device flow through the device pages', async () => {
    const { config, issuer } = await setup({
      client_type: 'public',
      redirect_uris: [],
      post_logout_redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    });
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    expect(device.verification_uri).toBe(`${issuer}/device`);
    const browser = new Browser();
    const input = await browser.get(device.verification_uri);
    expect(input.status).toBe(200);
    expect(input.html).toContain('<label for="user_code">');
    const inputForm = findForm(input.html, '/device');

    const wrong = await browser.post(inputForm.action, {
      ...inputForm.fields,
      user_code: 'XXXX-XXXX',
    });
    expect(wrong.html).toContain('not valid');

    const retryForm = findForm(wrong.html, '/device');
    const confirmPage = await browser.post(retryForm.action, {
      ...retryForm.fields,
      user_code: device.user_code,
    });
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.html).toContain(device.user_code);
    const confirmForm = findForm(confirmPage.html, '/device');
    let res = await browser.post(confirmForm.action, { ...confirmForm.fields, confirm: 'yes' });
    for (let i = 0; i < 8 && res.location; i++) {
      const next = res.location;
      res = await browser.get(next);
      if (res.status === 200 && next.includes('/interaction/')) {
        if (res.html.includes('name="password"')) {
          const f = findForm(res.html, '/login');
          res = await browser.post(t.baseUrl + f.action, {
            ...f.fields,
            login: 'alice',
            password: PASSWORD,
          });
        } else {
          const f = findForm(res.html, '/consent');
          res = await browser.post(t.baseUrl + f.action, f.fields);
        }
      }
    }
    expect(res.status).toBe(200);
    expect(res.html).toContain('Device connected');

    const tokens = await client.genericGrantRequest(
      config,
      'urn:ietf:params:oauth:grant-type:device_code',
      { device_code: device.device_code },
    );
    expect(tokens.access_token).toBeDefined();
    expect(tokens.claims()?.sub).toBeDefined();
    // A device code is good once.
    expect(
      await oauthError(
        client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:device_code', {
          device_code: device.device_code,
        }),
      ),
    ).toBe('invalid_grant');
  });

  describe('bad input', () => {
    it('shows an error page, without redirecting, for an unregistered redirect URI', async () => {
      const { config } = await setup();
      const r = await new Browser().get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: 'https://evil.example/cb',
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      expect(r.status).toBe(400);
      expect(r.location).toBeUndefined();
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(r.html).toContain('invalid_redirect_uri');
      // Near misses are refused too: matching is exact.
      const nearMiss = await new Browser().get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: `${REDIRECT}/`,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      expect(nearMiss.status).toBe(400);
      expect(nearMiss.location).toBeUndefined();
    });

    it('requires PKCE from public clients and checks the verifier', async () => {
      const { tenantId, issuer } = await setup();
      const pub = await createClient(t, tenantId, {
        client_type: 'public',
        redirect_uris: [REDIRECT],
      });
      const config = await discover(issuer, pub.client_id);
      const noPkce = await new Browser().get(
        client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid' }),
      );
      const cb = new URL(noPkce.location!);
      expect(cb.searchParams.get('error')).toBe('invalid_request');

      const s = await signIn(new Browser(), config, {
        username: 'alice',
        password: PASSWORD,
        redirectUri: REDIRECT,
        scope: 'openid',
        consent: true,
      });
      expect(
        await oauthError(
          client.authorizationCodeGrant(config, s.callback, {
            pkceCodeVerifier: client.randomPKCECodeVerifier(),
            expectedState: s.state,
            expectedNonce: s.nonce,
          }),
        ),
      ).toBe('invalid_grant');
    });

    it('holds a client to its allowed scopes', async () => {
      const { tenantId, issuer } = await setup();
      const apiOnly = await createClient(t, tenantId, {
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        allowed_scopes: ['orders:read'],
      });
      const narrow = await createClient(t, tenantId, {
        client_type: 'confidential',
        redirect_uris: [REDIRECT],
        allowed_scopes: ['openid'],
      });
      for (const [c, scope] of [
        [apiOnly, 'openid'],
        [narrow, 'openid email'],
      ] as const) {
        const config = await discover(issuer, c.client_id, c.client_secret);
        const r = await new Browser().get(
          client.buildAuthorizationUrl(config, {
            redirect_uri: REDIRECT,
            scope,
            code_challenge: await client.calculatePKCECodeChallenge(
              client.randomPKCECodeVerifier(),
            ),
            code_challenge_method: 'S256',
          }),
        );
        expect(new URL(r.location!).searchParams.get('error')).toBe('invalid_scope');
      }
    });

    it('refuses a reused code and revokes what it issued', async () => {
      const { config, user } = await setup();
      const s = await fixtures.signedIn(config);
      const checks = {
        pkceCodeVerifier: s.verifier,
        expectedState: s.state,
        expectedNonce: s.nonce,
      };
      const tokens = await client.authorizationCodeGrant(config, s.callback, checks);
      expect(await oauthError(client.authorizationCodeGrant(config, s.callback, checks))).toBe(
        'invalid_grant',
      );
      expect(
        await oauthError(client.fetchUserInfo(config, tokens.access_token, user.user_id)),
      ).toBe('invalid_token');
    });

    it('refuses an expired code', async () => {
      const { config, tenantId } = await setup();
      const s = await fixtures.signedIn(config);
      await t.app
        .get(DataSource)
        .query(
          `UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND model = 'AuthorizationCode'`,
          [tenantId],
        );
      expect(await oauthError(fixtures.exchange(config, s))).toBe('invalid_grant');
    });

    it('refuses a disabled user and ends what they hold', async () => {
      const { tenantId, config, user } = await setup();
      const { tokens } = await codeFlow(config);
      const disabled = await t.http(
        'POST',
        `/api/v1/tenants/${tenantId}/users/${user.user_id}/disable`,
      );
      expect(disabled.status).toBeLessThan(300);
      expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
        'invalid_grant',
      );
      expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
      const rows = await t.app
        .get(DataSource)
        .query(
          `SELECT count(*)::int AS n FROM oidc_payloads WHERE tenant_id = $1 AND payload->>'accountId' = $2`,
          [tenantId, user.user_id],
        );
      expect(rows[0].n).toBe(0);

      const browser = new Browser();
      const start = await browser.get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      const page = await browser.get(start.location!);
      const form = findForm(page.html, '/login');
      const r = await browser.post(t.baseUrl + form.action, {
        ...form.fields,
        login: 'alice',
        password: PASSWORD,
      });
      expect(r.status).toBe(403);
      expect(r.location).toBeUndefined();
      expect(r.html).toContain('access_denied');
    });

    it('ends sessions and tokens when the password changes', async () => {
      const { tenantId, config, user } = await setup();
      const { tokens } = await codeFlow(config);
      const set = await t.http(
        'PUT',
        `/api/v1/tenants/${tenantId}/users/${user.user_id}/password`,
        {
          body: { password: 'a brand new passphrase' },
        },
      );
      expect(set.status).toBe(204);
      expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
        'invalid_grant',
      );
      await codeFlow(config, new Browser(), { password: 'a brand new passphrase' });
    });

    it('refuses a locked client with an error page', async () => {
      const { tenantId, config, c } = await setup();
      const locked = await t.http('PATCH', `/api/v1/tenants/${tenantId}/clients/${c.client_id}`, {
        body: { is_lock: true },
      });
      expect(locked.status).toBe(200);
      const r = await new Browser().get(
        client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      expect(r.status).toBe(403);
      expect(r.location).toBeUndefined();
      expect(r.html).toContain('locked');
    });

    it('refuses a group-restricted client to users outside its groups', async () => {
      const { tenantId, config, c, user } = await setup({ is_group_restricted: true });
      await expect(codeFlow(config)).rejects.toThrow(/unexpected 403[\s\S]*not allowed/);

      const g = await t.http('POST', `/api/v1/tenants/${tenantId}/groups`, {
        body: { name: 'staff' },
      });
      expect(g.status).toBe(201);
      expect(
        (
          await t.http(
            'PUT',
            `/api/v1/tenants/${tenantId}/groups/${g.body.group_id}/allowed-clients`,
            {
              body: { client_ids: [c.client_id] },
            },
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await t.http(
            'PUT',
            `/api/v1/tenants/${tenantId}/groups/${g.body.group_id}/members/${user.user_id}`,
          )
        ).status,
      ).toBeLessThan(300);
      const { tokens } = await codeFlow(config, new Browser(), { scope: 'openid groups' });
      const info = await client.fetchUserInfo(config, tokens.access_token, user.user_id);
      expect(info.groups).toEqual(['staff']);
    });

    it('answers OAuth errors, never a 500, to malformed requests', async () => {
      const { tenantId, c } = await setup();
      const token = await fetch(`${t.baseUrl}/${tenantId}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '%%%garbage',
      });
      expect(token.status).toBe(400);
      expect(((await token.json()) as { error?: string }).error).toBeDefined();
      const json = await fetch(`${t.baseUrl}/${tenantId}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(json.status).toBeLessThan(500);
      const auth = await fetch(
        `${t.baseUrl}/${tenantId}/authorize?client_id=${c.client_id}&response_type=token`,
        { redirect: 'manual' },
      );
      expect(auth.status).toBeLessThan(500);
      const noClient = await fetch(
        `${t.baseUrl}/${tenantId}/authorize?client_id=nobody&response_type=code`,
      );
      expect(noClient.status).toBe(400);
      expect(await noClient.text()).toContain('invalid_client');
      const interaction = await fetch(`${t.baseUrl}/${tenantId}/interaction/abc`, {
        redirect: 'manual',
      });
      expect(interaction.status).toBe(400);
      const badUid = await fetch(`${t.baseUrl}/${tenantId}/interaction/${'%3Cscript%3E'}`);
      expect(badUid.status).toBe(404);
      expect(await badUid.text()).not.toContain('<script>');
      // Form posts are for the hosted pages only: the API stays JSON.
      const api = await fetch(`${t.baseUrl}/api/v1/tenants/${tenantId}/users`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-api-key': t.operatorKey,
        },
        body: 'username=bob',
      });
      expect(api.status).toBe(415);
    });
  });

  it('deletes expired artefacts in the cleanup job, and never serves them before', async () => {
    const { config, tenantId, user } = await setup();
    const { tokens } = await codeFlow(config);
    const db = t.app.get(DataSource);
    await db.query(
      `UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND model = 'AccessToken'`,
      [tenantId],
    );
    expect(await oauthError(client.fetchUserInfo(config, tokens.access_token, user.user_id))).toBe(
      'invalid_token',
    );
    const count = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS n FROM oidc_payloads WHERE tenant_id = $1 AND expires_at < now()`,
          [tenantId],
        )
      )[0].n as number;
    expect(await count()).toBeGreaterThan(0);
    await t.app.get(OidcPayloadStore).purgeExpired();
    expect(await count()).toBe(0);
    // What has not expired is kept.
    expect(
      (await client.refreshTokenGrant(config, tokens.refresh_token!)).access_token,
    ).toBeDefined();
  });

  it('keeps two tenants apart: tokens, codes, clients and sessions', async () => {
    const clientId = `shared-app-${Date.now()}`;
    const a = await setup({ client_id: clientId });
    const b = await setup({ client_id: clientId });
    const browser = new Browser();
    const { tokens, s } = await codeFlow(a.config, browser);

    // A's access token means nothing at B.
    expect(
      await oauthError(client.fetchUserInfo(b.config, tokens.access_token, a.user.user_id)),
    ).toBe('invalid_token');
    expect((await client.tokenIntrospection(b.config, tokens.access_token)).active).toBe(false);
    // A's refresh token neither.
    expect(await oauthError(client.refreshTokenGrant(b.config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    // A's client credentials are not B's, though the client id is the same.
    const aSecretAtB = await discover(b.issuer, clientId, a.c.client_secret);
    expect(await oauthError(client.refreshTokenGrant(aSecretAtB, tokens.refresh_token!))).toBe(
      'invalid_client',
    );
    // A code of A presented at B.
    const s2 = await signIn(browser, a.config, {
      username: 'alice',
      password: PASSWORD,
      redirectUri: REDIRECT,
    });
    const codeAtB = await fetch(`${b.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${b.c.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: s2.callback.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: s2.verifier,
      }),
    });
    expect(codeAtB.status).toBe(400);
    expect(((await codeAtB.json()) as { error?: string }).error).toBe('invalid_grant');
    // A's session does not sign the browser in at B.
    const silent = await browser.get(
      client.buildAuthorizationUrl(b.config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'none',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    expect(new URL(silent.location!).searchParams.get('error')).toBe('login_required');
    // A's ID token is signed by A's keys only.
    const { jwtVerify, createRemoteJWKSet } = await import('jose');
    await expect(
      jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${b.issuer}/jwks`))),
    ).rejects.toThrow();
    expect(s.callback.searchParams.get('iss')).toBe(a.issuer);
  });
});
