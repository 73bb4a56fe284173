import * as client from 'openid-client';
import { AuditService } from '../src/audit/audit.service.js';
import { startTestApp, type TestApp } from './harness.js';
import { findForm, oauthError } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { REDIRECT } from './fixtures.js';

const LOGOUT_REDIRECT = 'http://127.0.0.1:9999/bye';

/** The provider's security events land in the audit log with actor, subject and address. */
describe('audit events of the OpenID Provider', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function setup() {
    const { tenantId, user, c, config } = await fixtures.app(t, {
      prefix: 'auoidc',
      client: fixtures.webApp(REDIRECT, { post_logout_redirect_uris: [LOGOUT_REDIRECT] }),
    });
    const s = await fixtures.signedIn(config);
    const tokens = await fixtures.exchange(config, s);
    return { tenantId, user, clientId: c.client_id, config, browser: s.browser, tokens };
  }

  async function events(tenantId: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?type=${type}`);
    expect(r.status).toBe(200);
    return r.body.data as Array<Record<string, unknown>>;
  }

  it('records consent, token revocation and RP-initiated sign-out', async () => {
    const { tenantId, user, clientId, config, browser, tokens } = await setup();

    const [consent] = await events(tenantId, 'consent.granted');
    expect(consent).toMatchObject({
      actor_type: 'user',
      actor_id: user.user_id,
      subject_type: 'client',
      subject_id: clientId,
      ip: '127.0.0.1',
      outcome: 'success',
    });
    expect(String((consent.details as { scope?: string }).scope)).toContain('openid');

    await client.tokenRevocation(config, tokens.access_token);
    const [revoked] = await events(tenantId, 'token.revoked');
    expect(revoked).toMatchObject({
      actor_type: 'system',
      actor_id: clientId,
      subject_type: 'user',
      subject_id: user.user_id,
      ip: '127.0.0.1',
      outcome: 'success',
      details: { token_type: 'AccessToken', client_id: clientId },
    });

    const page = await browser.get(
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: LOGOUT_REDIRECT,
      }),
    );
    const form = findForm(page.html, '/logout');
    expect((await browser.post(form.action, { ...form.fields, logout: 'yes' })).status).toBe(303);
    const [logout] = await events(tenantId, 'logout.success');
    expect(logout).toMatchObject({
      actor_type: 'user',
      actor_id: user.user_id,
      subject_id: user.user_id,
      ip: '127.0.0.1',
      outcome: 'success',
      method: 'rp_initiated',
    });
    // Ending the session revoked its grant: not a reuse alarm.
    const tokenEvents = await events(tenantId, 'token.*');
    expect(tokenEvents.filter((e) => String(e.type).includes('reuse'))).toEqual([]);
  });

  it('records a refresh token that comes back after rotation', async () => {
    const { tenantId, user, clientId, config, tokens } = await setup();
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(rotated.refresh_token).toBeDefined();
    expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe(
      'invalid_grant',
    );
    const [reuse] = await events(tenantId, 'token.refresh_reuse_detected');
    expect(reuse).toMatchObject({
      actor_type: 'system',
      actor_id: clientId,
      subject_type: 'user',
      subject_id: user.user_id,
      ip: '127.0.0.1',
      outcome: 'failure',
      method: 'refresh_token',
      details: { grant_revoked: true },
    });
  });
});
