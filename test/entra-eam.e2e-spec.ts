import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { enrolTotp, freshStep, selfToken, totpCode } from './account-support.js';
import { tenant, uniqueEmail, user } from './fixtures.js';
import { pinSignIn, registerWithPin } from './pin-pattern-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';
import { SoftAuthenticator } from './webauthn-support.js';
import { startTestApp, type TestApp } from './harness.js';
import { Browser, findForm } from './oidc-support.js';

const CALLBACK = 'https://login.microsoftonline.com/common/federation/externalauthcallback';
const ENTRA_TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_ISSUER = `https://login.microsoftonline.com/${ENTRA_TID}/v2.0`;
const APP_ID = 'eam-app';
const PIN_SETTINGS = {
  register_enable: true,
  use_pin: true,
  pin_size: 6,
  use_pattern: true,
  pattern_size: 3,
  login_order: ['PIN', 'PATTERN'],
};
const pinPolicy = policyOf({ ...DEFAULT_SETTINGS, ...PIN_SETTINGS } as never)!;
const PIN_RIGHT = secretOf(pinPolicy, { pin: '482916', pattern: [0, 4, 8, 5, 2] });
const PIN_WRONG = secretOf(pinPolicy, { pin: '482917', pattern: [0, 4, 8, 5, 2] });
const EAM_CLAIMS = JSON.stringify({
  id_token: {
    acr: { essential: true, values: ['possessionorinherence'] },
    amr: { essential: true, values: ['fido', 'otp', 'hwk', 'pop', 'swk'] },
  },
});

/**
 * Microsoft Entra ID external authentication method, without the internet: a local stand-in
 * for Entra (its own RS256 key and JWKS server) signs the id_token_hint, and the ID token that
 * comes back is checked with jose the way Entra checks it (issuer, audience, nonce, acr, amr,
 * and the hint's subject).
 */
describe('Entra ID external MFA', () => {
  let t: TestApp;
  let jwksServer: Server;
  let jwksUri: string;
  let entraKey: CryptoKey;
  let entraJwk: JWK;

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    const pair = await generateKeyPair('RS256');
    entraKey = pair.privateKey;
    entraJwk = { ...(await exportJWK(pair.publicKey)), kid: 'entra-1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [entraJwk] }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/keys`;
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => jwksServer.close(r));
  });

  const hint = (claims: Record<string, unknown> = {}, key: CryptoKey = entraKey) =>
    new SignJWT({
      iss: ENTRA_ISSUER,
      aud: APP_ID,
      sub: 'entra-sub-abc',
      oid: 'oid-123',
      tid: ENTRA_TID,
      preferred_username: 'alice',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'entra-1' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  async function setup() {
    const tf = await tenant(t, { scopes: ['tenants:write', 'clients:write'] });
    await user(t, tf.tenantId);
    await freshStep();
    // The user's own token from before TOTP (a later password-only sign-in would stop at it).
    const token = await selfToken(t, tf.tenantId);
    const { secret } = await enrolTotp(t, tf.tenantId, token);
    const client = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: {
        client_id: APP_ID,
        name: 'Entra EAM',
        client_type: 'confidential',
        redirect_uris: [CALLBACK],
      },
    });
    expect(client.status).toBe(201);
    const on = await t.http('PATCH', `/api/v1/tenants/${tf.tenantId}`, {
      body: {
        entra_eam: { enabled: true, issuer: ENTRA_ISSUER, jwks_uri: jwksUri, client_id: APP_ID },
      },
    });
    expect(on.status).toBe(200);
    return { ...tf, secret, token };
  }

  const request = async (overrides: Record<string, string> = {}) => ({
    client_id: APP_ID,
    redirect_uri: CALLBACK,
    response_type: 'id_token',
    response_mode: 'form_post',
    scope: 'openid',
    state: 'entra-state',
    nonce: 'entra-nonce',
    claims: EAM_CLAIMS,
    id_token_hint: await hint(),
    ...overrides,
  });

  it('runs the second factor for the hinted user and form-posts the ID token Entra expects', async () => {
    const x = await setup();
    const browser = new Browser();
    // Entra posts the authorize request (form_post of the browser).
    const started = await browser.post(`${x.issuer}/authorize`, await request());
    expect(started.status).toBe(303);
    const mfa = new URL(started.location!);
    expect(mfa.pathname).toMatch(new RegExp(`^/${x.tenantId}/eam/[A-Za-z0-9_-]{22}$`));

    const page = await browser.get(mfa);
    expect(page.status).toBe(200);
    expect(page.html).toContain('alice');
    const wrong = await browser.post(mfa, { code: '000000' });
    expect(wrong.status).toBe(401);
    // Another browser (no flow cookie) cannot use the flow.
    expect((await new Browser().post(mfa, { code: await totpCode(x.secret, 1) })).status).toBe(400);

    const done = await browser.post(mfa, { code: await totpCode(x.secret, 1) });
    expect(done.status).toBe(200);
    const back = findForm(done.html, CALLBACK);
    expect(back.action).toBe(CALLBACK);
    expect(back.fields.state).toBe('entra-state');

    const { payload, protectedHeader } = await jwtVerify(
      back.fields.id_token,
      createRemoteJWKSet(new URL(`${x.issuer}/jwks`)),
      { issuer: x.issuer, audience: APP_ID, algorithms: ['RS256'] },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      sub: 'entra-sub-abc',
      oid: 'oid-123',
      tid: ENTRA_TID,
      nonce: 'entra-nonce',
      acr: 'possessionorinherence',
      amr: ['otp'],
    });

    // A GET authorize with the same parameters goes the same way.
    const viaGet = await new Browser().get(
      `${x.issuer}/authorize?${new URLSearchParams(await request())}`,
    );
    expect(viaGet.status).toBe(303);
    expect(viaGet.location).toContain(`/${x.tenantId}/eam/`);

    const events = await t.http('GET', `/api/v1/tenants/${x.tenantId}/audit-events?type=login.*`);
    expect(events.status).toBe(200);
  });

  it('takes a passkey of the hinted user as the second factor (amr fido)', async () => {
    const x = await setup();
    const token = x.token;
    const base = `/api/v1/tenants/${x.tenantId}/me/passkeys`;
    const authr = new SoftAuthenticator(new URL(t.baseUrl).hostname, t.baseUrl);
    const ro = await t.http('POST', `${base}/registration-options`, { key: token });
    const reg = await t.http('POST', `${base}/registration`, {
      key: token,
      body: {
        challenge_id: ro.body.challenge_id,
        response: authr.register(ro.body.options.challenge),
      },
    });
    expect(reg.status).toBe(201);
    const userId = (await t.http('GET', `/api/v1/tenants/${x.tenantId}/users/by-username/alice`))
      .body.user_id as string;

    const browser = new Browser();
    const started = await browser.post(`${x.issuer}/authorize`, await request());
    const mfa = new URL(started.location!);
    const page = await browser.get(mfa);
    expect(page.html).toContain('data-passkey-login');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    const options = async () => {
      const o = await browser.request('POST', `${mfa.href}/passkey-options`, {});
      return JSON.parse(o.html) as { challenge_id: string; options: { challenge: string } };
    };
    // Another authenticator's assertion (wrong origin) is refused; the user's own passes.
    const first = await options();
    const bad = await browser.post(mfa, {
      method: 'passkey',
      challenge_id: first.challenge_id,
      response: JSON.stringify(
        authr.assert(first.options.challenge, { userHandle: userId, origin: 'https://evil.test' }),
      ),
    });
    expect(bad.status).toBe(401);
    const second = await options();
    const done = await browser.post(mfa, {
      method: 'passkey',
      challenge_id: second.challenge_id,
      response: JSON.stringify(authr.assert(second.options.challenge, { userHandle: userId })),
    });
    expect(done.status).toBe(200);
    const back = findForm(done.html, CALLBACK);
    const { payload } = await jwtVerify(
      back.fields.id_token,
      createRemoteJWKSet(new URL(`${x.issuer}/jwks`)),
      { issuer: x.issuer, audience: APP_ID },
    );
    expect(payload).toMatchObject({ acr: 'possessionorinherence', amr: ['fido', 'hwk'] });
  });

  it('refuses hints Entra did not sign, for another app, expired, or for nobody here', async () => {
    const x = await setup();
    const stranger = (await generateKeyPair('RS256')).privateKey;
    const expired = await new SignJWT({ preferred_username: 'alice' })
      .setProtectedHeader({ alg: 'RS256', kid: 'entra-1' })
      .setIssuer(ENTRA_ISSUER)
      .setAudience(APP_ID)
      .setSubject('s')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1800)
      .sign(entraKey);
    const cases: Array<[string, Record<string, string>]> = [
      ['foreign key', { id_token_hint: await hint({}, stranger) }],
      ['other audience', { id_token_hint: await hint({ aud: 'someone-else' }) }],
      ['other issuer', { id_token_hint: await hint({ iss: 'https://evil.example/v2.0' }) }],
      ['expired', { id_token_hint: expired }],
      [
        'unknown user',
        { id_token_hint: await hint({ preferred_username: `nobody-${randomUUID()}` }) },
      ],
      ['redirect not registered', { redirect_uri: 'https://evil.example/cb' }],
      ['unknown client', { client_id: 'other-app' }],
      ['acr not offered', { claims: JSON.stringify({ id_token: { acr: { values: ['x'] } } }) }],
      ['claims not json', { claims: '{nope' }],
    ];
    for (const [name, overrides] of cases) {
      const r = await new Browser().post(`${x.issuer}/authorize`, await request(overrides));
      expect([name, r.status]).toEqual([name, 400]);
    }
    // A tenant without EAM set up has no such endpoint.
    const plain = await tenant(t);
    const r = await new Browser().post(`${plain.issuer}/authorize`, await request());
    expect(r.status).toBe(404);
  });

  // PIN/pattern as the method.
  /** A tenant with PIN+pattern sign-in, alice and bob enrolled through OPAQUE, EAM on with pin_pattern only. */
  async function pinSetup(eam: Record<string, unknown> = {}) {
    const tf = await tenant(t, {
      scopes: ['tenants:write', 'clients:write'],
      settings: PIN_SETTINGS,
    });
    for (const name of ['alice', 'bob']) {
      const reg = await registerWithPin(
        t,
        tf.tenantId,
        { username: name, email: uniqueEmail(tf.tenantId, name) },
        PIN_RIGHT,
      );
      expect(reg.status).toBe(201);
    }
    const client = await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: {
        client_id: APP_ID,
        name: 'Entra EAM',
        client_type: 'confidential',
        redirect_uris: [CALLBACK],
      },
    });
    expect(client.status).toBe(201);
    const on = await t.http('PATCH', `/api/v1/tenants/${tf.tenantId}`, {
      body: {
        entra_eam: {
          enabled: true,
          issuer: ENTRA_ISSUER,
          jwks_uri: jwksUri,
          client_id: APP_ID,
          methods: ['pin_pattern'],
          ...eam,
        },
      },
    });
    expect(on.status).toBe(200);
    return tf;
  }

  /** Entra's request in a fresh browser, up to the MFA page; the OPAQUE routes it names. */
  async function mfaPage(issuer: string, overrides: Record<string, string> = {}) {
    const browser = new Browser();
    const started = await browser.post(`${issuer}/authorize`, await request(overrides));
    expect(started.status).toBe(303);
    const mfa = new URL(started.location!);
    const page = await browser.get(mfa);
    expect(page.status).toBe(200);
    const challenge = /data-challenge="([^"]+)"/.exec(page.html)?.[1]?.replace(/&amp;/g, '&');
    const authReqId = challenge && new URL(challenge).searchParams.get('auth_req_id');
    return { browser, mfa, page, authReqId: authReqId ?? undefined };
  }

  it('PIN/pattern: is not offered for possessionorinherence unless the tenant maps it: a PIN is something you know', async () => {
    const x = await pinSetup();
    const r = await new Browser().post(`${x.issuer}/authorize`, await request());
    expect(r.status).toBe(400);
    expect(r.html).toContain('entra-eam-request');
    // Mapped by the tenant, the same request is taken (the next test runs the whole flow).
    await t.http('PATCH', `/api/v1/tenants/${x.tenantId}`, {
      body: {
        entra_eam: { acr_methods: [{ acr: 'possessionorinherence', methods: ['pin_pattern'] }] },
      },
    });
    expect((await new Browser().post(`${x.issuer}/authorize`, await request())).status).toBe(303);
  });

  it('PIN/pattern: runs the OPAQUE sign-in on the keypad page and answers amr pin+pattern with the mapped acr', async () => {
    const x = await pinSetup({
      acr_methods: [{ acr: 'possessionorinherence', methods: ['pin_pattern'] }],
    });
    const { browser, mfa, page, authReqId } = await mfaPage(x.issuer);
    // The sign-in page's keypad, grid and script, bound to this flow; WebAssembly allowed.
    expect(page.html).toContain('data-pin-pattern');
    expect(page.html).toContain('data-digit="7"');
    expect(page.html).toContain('data-pattern-grid');
    expect(page.html).toContain('/assets/idp-pin-pattern.js');
    expect(page.html).not.toContain('name="code"');
    expect(page.headers.get('content-security-policy')).toContain("'wasm-unsafe-eval'");
    expect(authReqId).toMatch(/^eam-[A-Za-z0-9_-]{22}$/);

    // A wrong PIN cannot even finish OPAQUE; bob's right PIN on this flow, or alice's on
    // another authorisation, gives a nonce this flow refuses.
    expect((await pinSignIn(t, x.tenantId, 'alice', PIN_WRONG, authReqId)).finished).toBe(false);
    const bob = await pinSignIn(t, x.tenantId, 'bob', PIN_RIGHT, authReqId);
    expect(bob.authenticate?.status).toBe(200);
    const other = await pinSignIn(t, x.tenantId, 'alice', PIN_RIGHT, 'eam-AAAAAAAAAAAAAAAAAAAAAA');
    expect(other.authenticate?.status).toBe(200);
    for (const nonce of [bob.authenticate!.body.nonce, other.authenticate!.body.nonce, 'forged']) {
      const refused = await browser.post(mfa, { method: 'pin_pattern', oid_nonce: nonce });
      expect(refused.status).toBe(401);
      expect(refused.html).toContain('data-pin-pattern');
    }

    const s = await pinSignIn(t, x.tenantId, 'alice', PIN_RIGHT, authReqId);
    expect(s.authenticate?.status).toBe(200);
    const done = await browser.post(mfa, {
      method: 'pin_pattern',
      login: 'alice',
      oid_nonce: s.authenticate!.body.nonce,
    });
    expect(done.status).toBe(200);
    const back = findForm(done.html, CALLBACK);
    expect(back.fields.state).toBe('entra-state');
    const { payload } = await jwtVerify(
      back.fields.id_token,
      createRemoteJWKSet(new URL(`${x.issuer}/jwks`)),
      { issuer: x.issuer, audience: APP_ID, algorithms: ['RS256'] },
    );
    expect(payload).toMatchObject({
      sub: 'entra-sub-abc',
      oid: 'oid-123',
      tid: ENTRA_TID,
      nonce: 'entra-nonce',
      acr: 'possessionorinherence',
      amr: ['pin', 'pattern'],
    });
    // The nonce is spent: posting it again does not sign in twice.
    const again = await mfaPage(x.issuer);
    const replay = await again.browser.post(again.mfa, {
      method: 'pin_pattern',
      oid_nonce: s.authenticate!.body.nonce,
    });
    expect(replay.status).toBe(401);
  });

  it('PIN/pattern: answers the first requested acr it reaches (one without a mapping entry)', async () => {
    const x = await pinSetup({
      methods: ['pin_pattern', 'totp'],
      accepted_acr: ['possessionorinherence', 'knowledgeorpossession'],
    });
    const claims = JSON.stringify({
      id_token: {
        acr: { essential: true, values: ['possessionorinherence', 'knowledgeorpossession'] },
        amr: { essential: true, values: ['pin', 'otp'] },
      },
    });
    const { browser, mfa, authReqId } = await mfaPage(x.issuer, { claims });
    const s = await pinSignIn(t, x.tenantId, 'alice', PIN_RIGHT, authReqId);
    const done = await browser.post(mfa, {
      method: 'pin_pattern',
      oid_nonce: s.authenticate!.body.nonce,
    });
    expect(done.status).toBe(200);
    const { payload } = await jwtVerify(
      findForm(done.html, CALLBACK).fields.id_token,
      createRemoteJWKSet(new URL(`${x.issuer}/jwks`)),
      { issuer: x.issuer, audience: APP_ID },
    );
    expect(payload).toMatchObject({ acr: 'knowledgeorpossession', amr: ['pin', 'pattern'] });
    // Mapping validation: an unknown method is refused.
    const bad = await t.http('PATCH', `/api/v1/tenants/${x.tenantId}`, {
      body: { entra_eam: { acr_methods: [{ acr: 'x', methods: ['sms'] }] } },
    });
    expect(bad.status).toBe(400);
  });
});
