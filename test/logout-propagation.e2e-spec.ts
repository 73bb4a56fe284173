import { launchChromium } from './chromium-support.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { exchange, firstPartyApp, PASSWORD, REDIRECT, signedIn, tenant, user } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { Browser, discover, findForm } from './oidc-support.js';
import { userSignIn } from './user-token-support.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * A relying party's back-channel logout endpoint: collects the logout tokens POSTed to it. By
 * default it answers 200; `hold()` keeps the next request unanswered until `release(status)`.
 */
async function logoutEndpoint() {
  const tokens: string[] = [];
  let holding = false;
  let held: ServerResponse | undefined;
  let heldArrived: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      if (holding && !held) {
        held = res;
        heldArrived?.();
        return;
      }
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      tokens.push(form.get('logout_token') ?? '');
      res.statusCode = 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel`,
    tokens,
    hold: () => {
      holding = true;
      return new Promise<void>((resolve) => (heldArrived = resolve));
    },
    /** A request is held and the sender is still waiting on it (has not given up on the connection). */
    isHolding: () => Boolean(held) && !held!.writableEnded && !held!.socket?.destroyed,
    release(status: number) {
      holding = false;
      held!.statusCode = status;
      held!.end();
    },
    async waitFor(count: number) {
      for (let i = 0; i < 200 && tokens.length < count; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(tokens.length).toBeGreaterThanOrEqual(count);
      return tokens[count - 1];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Endpoint = Awaited<ReturnType<typeof logoutEndpoint>>;

describe('Logout propagation (Back-Channel and Front-Channel Logout)', () => {
  let t: TestApp;
  const endpoints: Endpoint[] = [];
  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(async () => {
    for (const e of endpoints) await e.close();
    await t.close();
  });

  /**
   * A tenant with alice and two apps she signs in to in one browser session: app A (EdDSA ID
   * tokens, sid required, a front-channel URI) and app B (RS256), each with its own endpoint.
   */
  async function twoApps() {
    const tf = await tenant(t, { prefix: 'bcl' });
    const alice = await user(t, tf.tenantId);
    const epA = await logoutEndpoint();
    const epB = await logoutEndpoint();
    endpoints.push(epA, epB);
    const apps: Array<{ clientId: string; config: client.Configuration; ep: Endpoint }> = [];
    for (const [ep, extra] of [
      [
        epA,
        {
          id_token_signed_response_alg: 'EdDSA',
          backchannel_logout_session_required: true,
          client_logout_uri: 'https://a.example.com/frontchannel?x=1',
          frontchannel_logout_session_required: true,
          post_logout_redirect_uris: ['https://a.example.com/bye'],
        },
      ],
      [epB, { frontchannel_logout_uri: 'https://b.example.com/fc' }],
    ] as const) {
      const r = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
        body: { name: 'App', ...firstPartyApp(), backchannel_logout_uri: ep.url, ...extra },
      });
      expect(r.status).toBe(201);
      const alg = (extra as Record<string, unknown>).id_token_signed_response_alg as
        string | undefined;
      const config = await discover(
        tf.issuer,
        r.body.client_id,
        r.body.client_secret,
        alg ? { id_token_signed_response_alg: alg } : {},
      );
      apps.push({ clientId: r.body.client_id as string, config, ep });
    }
    const browser = new Browser();
    const signIns: Array<
      (typeof apps)[number] & {
        tokens: Awaited<ReturnType<typeof exchange>>;
        sid: string;
      }
    > = [];
    for (const app of apps) {
      const s = await signedIn(app.config, { browser, scope: 'openid profile' });
      const tokens = await exchange(app.config, s);
      signIns.push({ ...app, tokens, sid: tokens.claims()!.sid as string });
    }
    const jwks = createRemoteJWKSet(new URL(`${tf.issuer}/jwks`));
    /** What an RP checks in a logout token (Back-Channel Logout 1.0 §2.6). */
    async function verify(token: string, app: (typeof signIns)[number], alg: string) {
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'logout+jwt', alg });
      const { payload } = await jwtVerify(token, jwks, {
        issuer: tf.issuer,
        audience: app.clientId,
        typ: 'logout+jwt',
      });
      expect(payload.events).toEqual({ [EVENT]: {} });
      expect(payload).not.toHaveProperty('nonce');
      expect(payload.sub).toBe(alice.user_id);
      expect(payload.sid).toBe(app.sid);
      expect(typeof payload.jti).toBe('string');
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
      return payload;
    }
    return { ...tf, alice, browser, a: signIns[0], b: signIns[1], verify };
  }

  it('advertises back- and front-channel logout in discovery', async () => {
    const { tenantId } = await tenant(t, { prefix: 'bcl-doc' });
    const doc = (await t.http('GET', `/${tenantId}/.well-known/openid-configuration`)).body;
    expect(doc).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
    });
  });

  it('keeps the logout settings on the client; client_logout_uri is the front-channel URI', async () => {
    const { tenantId } = await tenant(t, { prefix: 'bcl-set' });
    const base = `/api/v1/tenants/${tenantId}/clients`;
    const r = await t.http('POST', base, {
      body: {
        name: 'App',
        ...firstPartyApp(),
        frontchannel_logout_uri: 'https://app.example.com/fc',
        backchannel_logout_uri: 'http://127.0.0.1:1/bc',
        backchannel_logout_session_required: true,
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      client_logout_uri: 'https://app.example.com/fc',
      frontchannel_logout_uri: 'https://app.example.com/fc',
      frontchannel_logout_session_required: false,
      backchannel_logout_uri: 'http://127.0.0.1:1/bc',
      backchannel_logout_session_required: true,
    });
    const patched = await t.http('PATCH', `${base}/${r.body.client_id}`, {
      body: { client_logout_uri: 'https://app.example.com/other', backchannel_logout_uri: null },
    });
    expect(patched.body).toMatchObject({
      frontchannel_logout_uri: 'https://app.example.com/other',
      backchannel_logout_uri: null,
    });
    for (const [field, value] of [
      ['backchannel_logout_uri', 'https://app.example.com/bc#frag'],
      ['backchannel_logout_uri', 'http://app.example.com/bc'],
      ['frontchannel_logout_uri', 'javascript:alert(1)'],
    ]) {
      const bad = await t.http('PATCH', `${base}/${r.body.client_id}`, {
        body: { [field]: value },
      });
      expect(bad.status).toBe(400);
    }
    const both = await t.http('PATCH', `${base}/${r.body.client_id}`, {
      body: {
        client_logout_uri: 'https://a.example.com/x',
        frontchannel_logout_uri: 'https://b.example.com/y',
      },
    });
    expect(both.status).toBe(400);
  });

  it('RP-initiated logout: both apps get a valid logout token, a slow one without delaying the user, and a failed delivery is retried; the page frames the front-channel URIs', async () => {
    const x = await twoApps();
    // App B's endpoint holds its first request open, then fails it.
    const bHeld = x.b.ep.hold();
    const page = await x.browser.get(
      client.buildEndSessionUrl(x.a.config, {
        id_token_hint: x.a.tokens.id_token!,
        post_logout_redirect_uri: 'https://a.example.com/bye',
      }),
    );
    const form = findForm(page.html, '/logout');
    const out = await x.browser.post(form.action, { ...form.fields, logout: 'yes' });

    // The user's answer: a page that loads each app's front-channel URI, then continues.
    expect(out.status).toBe(200);
    const frames = [...out.html.matchAll(/<iframe[^>]*src="([^"]*)"/g)].map((m) =>
      m[1].replace(/&amp;/g, '&'),
    );
    expect(frames).toHaveLength(2);
    const fa = new URL(frames.find((f) => f.startsWith('https://a.example.com'))!);
    expect(Object.fromEntries(fa.searchParams)).toEqual({ x: '1', iss: x.issuer, sid: x.a.sid });
    expect(frames).toContain('https://b.example.com/fc');
    const csp = out.headers.get('content-security-policy')!;
    const frameSrc = /frame-src ([^;]*)/.exec(csp)![1].split(' ').toSorted();
    expect(frameSrc).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(csp).toContain("default-src 'none'");
    expect(out.html).toContain('href="https://a.example.com/bye"');
    expect(out.headers.get('refresh')).toContain('url=https://a.example.com/bye');

    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    // The logout answered while app B's endpoint still had not answered.
    await bHeld;
    expect(x.b.ep.isHolding()).toBe(true);
    x.b.ep.release(503);
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
    const metrics = (await t.http('GET', '/metrics', { key: null })).text;
    expect(metrics).toMatch(/idp_backchannel_logout_total\{outcome="retry"\} [1-9]/);
    expect(metrics).toMatch(/idp_backchannel_logout_total\{outcome="delivered"\} [1-9]/);
    // The session is gone: the app's refresh token no longer works.
    await expect(client.refreshTokenGrant(x.b.config, x.b.tokens.refresh_token!)).rejects.toThrow();
  });

  it('an admin revoking the user’s sessions tells both apps', async () => {
    const x = await twoApps();
    const r = await t.http(
      'DELETE',
      `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/sessions`,
    );
    expect(r.status).toBe(200);
    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
  });

  it('sign out everywhere (the user’s own API) tells both apps', async () => {
    const x = await twoApps();
    const { tokens } = await userSignIn(t, x.tenantId, 'alice', PASSWORD);
    const r = await t.http('DELETE', `/api/v1/tenants/${x.tenantId}/me/sessions`, {
      key: tokens.access_token,
    });
    expect(r.status).toBe(200);
    expect(r.body.revoked).toBe(2);
    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
  });

  it('ending one session from the session list tells the apps of that session', async () => {
    const x = await twoApps();
    const { tokens } = await userSignIn(t, x.tenantId, 'alice', PASSWORD);
    const key = tokens.access_token;
    const list = await t.http('GET', `/api/v1/tenants/${x.tenantId}/me/sessions`, {
      key,
    });
    const mine = list.body.data.find((s: { client_ids: string[] }) =>
      s.client_ids.includes(x.a.clientId),
    );
    const r = await t.http(
      'DELETE',
      `/api/v1/tenants/${x.tenantId}/me/sessions/${mine.session_id}`,
      {
        key,
      },
    );
    expect(r.status).toBe(204);
    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
  });

  it('disabling the user tells both apps', async () => {
    const x = await twoApps();
    const r = await t.http(
      'POST',
      `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/disable`,
    );
    expect(r.status).toBeLessThan(300);
    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
  });

  it('an admin setting a new password (a reset) tells both apps', async () => {
    const x = await twoApps();
    const r = await t.http(
      'PUT',
      `/api/v1/tenants/${x.tenantId}/users/${x.alice.user_id}/password`,
      { body: { password: 'another correct horse battery staple' } },
    );
    expect(r.status).toBe(204);
    await x.verify(await x.a.ep.waitFor(1), x.a, 'EdDSA');
    await x.verify(await x.b.ep.waitFor(1), x.b, 'RS256');
  });

  it('an app without a logout URI gets no sid and no page in between', async () => {
    const tf = await tenant(t, { prefix: 'bcl-none' });
    await user(t, tf.tenantId);
    const r = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: { name: 'App', ...firstPartyApp(), post_logout_redirect_uris: [`${REDIRECT}/bye`] },
    });
    const config = await discover(tf.issuer, r.body.client_id, r.body.client_secret);
    const s = await signedIn(config, { scope: 'openid profile' });
    const tokens = await exchange(config, s);
    expect(tokens.claims()).not.toHaveProperty('sid');
    const page = await s.browser.get(
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: `${REDIRECT}/bye`,
      }),
    );
    const form = findForm(page.html, '/logout');
    const out = await s.browser.post(form.action, { ...form.fields, logout: 'yes' });
    expect(out.status).toBe(303);
  });

  it('in a real browser the logout page loads the front-channel URI under its CSP, then goes on', async () => {
    // The app's front-channel endpoint and its post-logout page, on the loopback interface.
    const hits: URL[] = [];
    const rp = createServer((req, res) => {
      hits.push(new URL(req.url!, 'http://127.0.0.1'));
      res.setHeader('content-type', 'text/html');
      res.end('<!DOCTYPE html><title>rp</title>ok');
    });
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
    const tf = await tenant(t, { prefix: 'fcl' });
    await user(t, tf.tenantId);
    const r = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: {
        name: 'App',
        ...firstPartyApp(`${origin}/cb`),
        frontchannel_logout_uri: `${origin}/fc`,
        frontchannel_logout_session_required: true,
        post_logout_redirect_uris: [`${origin}/bye`],
      },
    });
    const config = await discover(tf.issuer, r.body.client_id, r.body.client_secret);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      await page.goto(
        client.buildAuthorizationUrl(config, {
          redirect_uri: `${origin}/cb`,
          scope: 'openid profile',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        }).href,
      );
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${origin}/cb?**`);
      const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      const sid = tokens.claims()!.sid;
      expect(typeof sid).toBe('string');

      await page.goto(
        client.buildEndSessionUrl(config, {
          id_token_hint: tokens.id_token!,
          post_logout_redirect_uri: `${origin}/bye`,
        }).href,
      );
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${origin}/bye`, { timeout: 15_000 });
      const fc = hits.find((u) => u.pathname === '/fc');
      expect(fc && Object.fromEntries(fc.searchParams)).toEqual({ iss: tf.issuer, sid });
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => rp.close(() => resolve()));
    }
  }, 60_000);
});
