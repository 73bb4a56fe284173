import * as client from 'openid-client';
import { startTestApp, type TestApp } from './harness.js';
import { AuditService } from '../src/audit/audit.service.js';
import { Browser, findForm, oauthError } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD, REDIRECT } from './fixtures.js';

const PARALLEL = 6;

/** Exactly one answer of a race is a 200; the others are the losers. */
function split(answers: Array<{ status: number; body: Record<string, string> }>) {
  // Statuses first: a failure then reads [200, 200, 400, …] rather than whole token sets.
  expect(answers.map((a) => a.status).toSorted()).toEqual([
    200,
    ...Array<number>(answers.length - 1).fill(400),
  ]);
  const won = answers.filter((a) => a.status === 200);
  const lost = answers.filter((a) => a.status !== 200);
  return { won, lost };
}

/**
 * Consuming a code, refresh token or device code is one conditional write: of several
 * concurrent redemptions of one value exactly one wins, and each loser is treated as a reuse,
 * which revokes the grant, so the winner's tokens die too.
 */
describe.each([
  ['PostgreSQL', false],
  ['embedded PGlite', true],
])('OIDC one-time values redeemed in parallel (%s)', (_name, embedded) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ embedded });
  }, 60_000);
  afterAll(() => t.close());

  /** Sends one token request with the client's secret (Basic), as plain fetch. */
  function tokenRequest(
    tenantId: string,
    c: { client_id: string; client_secret?: string },
    body: Record<string, string>,
  ) {
    const basic = Buffer.from(
      `${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret ?? '')}`,
    ).toString('base64');
    return fetch(`${t.baseUrl}/${tenantId}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(body).toString(),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));
  }

  async function expectGrantRevoked(
    setup: Awaited<ReturnType<typeof fixtures.app>>,
    tokens: Record<string, string>,
  ) {
    const { config, tenantId, c, user } = setup;
    expect(await oauthError(client.fetchUserInfo(config, tokens.access_token, user.user_id))).toBe(
      'invalid_token',
    );
    const refreshed = await tokenRequest(tenantId, c, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const introspected = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspected.active).toBe(false);
  }

  it('lets one of several parallel refresh redemptions win and revokes the grant', async () => {
    const setup = await fixtures.app(t, { prefix: 'race-rt' });
    const s = await fixtures.signedIn(setup.config);
    const first = await fixtures.exchange(setup.config, s);
    const rt = first.refresh_token!;
    expect(rt).toBeDefined();

    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        tokenRequest(setup.tenantId, setup.c, { grant_type: 'refresh_token', refresh_token: rt }),
      ),
    );
    const { won, lost } = split(answers);
    for (const l of lost)
      expect(l).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    await expectGrantRevoked(setup, won[0].body);
    // Each lost race is logged as a reuse, like a sequential one.
    await t.app.get(AuditService).flush();
    const audit = await t.http(
      'GET',
      `/api/v1/tenants/${setup.tenantId}/audit-events?type=token.refresh_reuse_detected`,
    );
    expect(audit.body.data.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.data[0]).toMatchObject({ details: { grant_revoked: true } });
    // The tokens of the first exchange went with the grant as well.
    expect(
      await oauthError(client.fetchUserInfo(setup.config, first.access_token, setup.user.user_id)),
    ).toBe('invalid_token');
  });

  it('lets one of several parallel code redemptions win and revokes the grant', async () => {
    const setup = await fixtures.app(t, { prefix: 'race-code' });
    const s = await fixtures.signedIn(setup.config);
    const code = s.callback.searchParams.get('code')!;
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        tokenRequest(setup.tenantId, setup.c, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
          code_verifier: s.verifier,
        }),
      ),
    );
    const { won, lost } = split(answers);
    for (const l of lost)
      expect(l).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(won[0].body.refresh_token).toBeDefined();

    await expectGrantRevoked(setup, won[0].body);
  });

  it('lets one of several parallel device code redemptions win and revokes the grant', async () => {
    const setup = await fixtures.app(t, {
      prefix: 'race-dev',
      client: fixtures.webApp(REDIRECT, {
        grant_types: [
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
      }),
    });
    const { tenantId, c } = setup;
    const basic = Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64');
    const started = await fetch(`${t.baseUrl}/${tenantId}/device/auth`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'scope=openid%20offline_access',
    });
    expect(started.status).toBe(200);
    const device = (await started.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    await approveDevice(new Browser(), device.verification_uri, device.user_code);

    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        tokenRequest(tenantId, c, {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: device.device_code,
        }),
      ),
    );
    const { won, lost } = split(answers);
    for (const l of lost)
      expect(l).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(won[0].body.refresh_token).toBeDefined();

    await expectGrantRevoked(setup, won[0].body);
  });

  /** The user approves on another screen: enters the code, confirms, signs in. */
  async function approveDevice(browser: Browser, verificationUri: string, userCode: string) {
    const input = await browser.get(verificationUri);
    const inputForm = findForm(input.html, '/device');
    const confirmPage = await browser.post(inputForm.action, {
      ...inputForm.fields,
      user_code: userCode,
    });
    const confirmForm = findForm(confirmPage.html, '/device');
    let res = await browser.post(confirmForm.action, { ...confirmForm.fields, confirm: 'yes' });
    for (let i = 0; i < 8 && res.location; i++) {
      const next = res.location;
      res = await browser.get(next);
      if (res.status === 200 && next.includes('/interaction/')) {
        const f = res.html.includes('name="password"')
          ? findForm(res.html, '/login')
          : findForm(res.html, '/consent');
        res = await browser.post(
          t.baseUrl + f.action,
          res.html.includes('name="password"')
            ? { ...f.fields, login: 'alice', password: PASSWORD }
            : f.fields,
        );
      }
    }
    expect(res.html).toContain('Device connected');
  }
});
