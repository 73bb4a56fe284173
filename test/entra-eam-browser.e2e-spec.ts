import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
} from 'jose';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium-support.js';
import { tenant, uniqueEmail } from './fixtures.js';
import { startTestApp, type TestApp } from './harness.js';
import { registerWithPin } from './pin-pattern-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

const CALLBACK = 'https://login.microsoftonline.com/common/federation/externalauthcallback';
const ENTRA_ISSUER = 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0';
const APP_ID = 'eam-app';
const SETTINGS = { register_enable: true, use_pin: true, pin_size: 4, use_pattern: false };
const PIN = '9031';

/**
 * The Entra EAM page's PIN keypad in a real browser (Chromium): the sign-in page's own script
 * runs OPAQUE for the hinted user and posts the nonce; the page that goes back to Entra carries
 * an ID token with amr `pin`.
 */
describe('browser: Entra EAM with a PIN', () => {
  let t: TestApp;
  let browser: Browser;
  let jwksServer: Server;
  let jwksUri: string;
  let entraKey: CryptoKey;

  beforeAll(async () => {
    t = await startTestApp({ publicHost: 'localhost', env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    const pair = await generateKeyPair('RS256');
    entraKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'entra-1', alg: 'RS256' };
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/keys`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((r) => jwksServer.close(r));
  });

  it('verifies with the shuffled keypad and returns amr pin', async () => {
    const tf = await tenant(t, { scopes: ['tenants:write', 'clients:write'], settings: SETTINGS });
    const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS } as never)!;
    const reg = await registerWithPin(
      t,
      tf.tenantId,
      { username: 'alice', email: uniqueEmail(tf.tenantId) },
      secretOf(policy, { pin: PIN }),
    );
    expect(reg.status).toBe(201);
    await t.http('POST', `/api/v1/tenants/${tf.tenantId}/clients`, {
      body: {
        client_id: APP_ID,
        name: 'EAM',
        client_type: 'confidential',
        redirect_uris: [CALLBACK],
      },
    });
    const on = await t.http('PATCH', `/api/v1/tenants/${tf.tenantId}`, {
      body: {
        entra_eam: {
          enabled: true,
          issuer: ENTRA_ISSUER,
          jwks_uri: jwksUri,
          client_id: APP_ID,
          methods: ['pin_pattern'],
          acr_methods: [{ acr: 'possessionorinherence', methods: ['pin_pattern'] }],
        },
      },
    });
    expect(on.status).toBe(200);
    const hint = await new SignJWT({ preferred_username: 'alice', oid: 'oid-1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'entra-1' })
      .setIssuer(ENTRA_ISSUER)
      .setAudience(APP_ID)
      .setSubject('entra-sub')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(entraKey);
    const params = new URLSearchParams({
      client_id: APP_ID,
      redirect_uri: CALLBACK,
      response_type: 'id_token',
      response_mode: 'form_post',
      scope: 'openid',
      nonce: 'n-1',
      state: 's-1',
      id_token_hint: hint,
      claims: JSON.stringify({ id_token: { acr: { values: ['possessionorinherence'] } } }),
    });
    const context = await browser.newContext({ locale: 'en-GB' });
    try {
      const page = await context.newPage();
      await page.goto(`${tf.issuer}/authorize?${params}`);
      await page.getByRole('heading', { name: 'Verify it is you' }).waitFor();
      for (const d of PIN) await page.locator(`[data-digit="${d}"]`).click();
      await page.getByRole('button', { name: 'Verify with your PIN' }).click();
      await page.getByRole('heading', { name: 'Verified' }).waitFor({ timeout: 30_000 });
      const idToken = await page.locator('input[name="id_token"]').inputValue();
      const { payload } = await jwtVerify(
        idToken,
        createRemoteJWKSet(new URL(`${tf.issuer}/jwks`)),
        { issuer: tf.issuer, audience: APP_ID },
      );
      expect(payload).toMatchObject({
        sub: 'entra-sub',
        nonce: 'n-1',
        acr: 'possessionorinherence',
        amr: ['pin'],
      });
    } finally {
      await context.close();
    }
  }, 90_000);
});
