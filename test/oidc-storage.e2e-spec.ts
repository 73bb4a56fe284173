import pg from 'pg';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './harness.js';
import { oauthError } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { REDIRECT } from './fixtures.js';

/**
 * Statements on the provider's and the directory's tables sent to PostgreSQL while `fn` runs
 * (every query goes through pg's Client). Background writers that may flush meanwhile (audit
 * events, sign-in analytics) write other tables and are left out.
 */
async function statements(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    if (/\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:oidc_payloads|users)\b|oidc_payloads_apply/.test(text))
      seen.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

/**
 * How the provider's artefacts are read and written: a token comes back with its grant, bound
 * session and user in one statement, and what a request writes is applied in one call before
 * its answer leaves (all or nothing).
 */
describe('OIDC storage', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  async function setup(scope = 'openid profile email offline_access') {
    const { tenantId, user, c, config } = await fixtures.app(t, {
      prefix: 'store',
      client: fixtures.webApp(REDIRECT, {
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      }),
    });
    const s = await fixtures.signedIn(config, { scope });
    let tokens!: client.TokenEndpointResponse;
    const exchange = await statements(async () => {
      tokens = await fixtures.exchange(config, s);
    });
    return { tenantId, user, config, tokens, c, exchange };
  }

  it('answers a code exchange and a refresh with two statements, userinfo and introspection with one, client_credentials with none', async () => {
    const { user, config, tokens, exchange } = await setup();
    // The code with its grant and user in one read; consume + tokens in one write.
    expect(exchange).toHaveLength(2);
    expect(
      await statements(async () => {
        const info = await client.fetchUserInfo(config, tokens.access_token, user.user_id);
        expect(info).toMatchObject({ sub: user.user_id, preferred_username: 'alice' });
      }),
    ).toHaveLength(1);
    // Without a hint the token is looked up as three kinds at once: still one statement.
    expect(
      await statements(async () => {
        const r = await client.tokenIntrospection(config, tokens.access_token);
        expect(r).toMatchObject({ active: true, sub: user.user_id });
      }),
    ).toHaveLength(1);
    // Read the refresh token with its grant and user; write consume + two new tokens at once.
    const refresh = await statements(async () => {
      const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
    });
    expect(refresh).toHaveLength(2);
    expect(refresh[1]).toContain('oidc_payloads_apply');
    // A client_credentials JWT is self-contained: nothing is stored or read for it.
    expect(
      await statements(async () => {
        const cc = await client.clientCredentialsGrant(config);
        expect(cc.access_token.split('.')).toHaveLength(3);
      }),
    ).toEqual([]);
  });

  it('never serves a token whose user is disabled, grant is gone or session ended', async () => {
    // Changed behind the provider's back (straight in the database), so only the joined read
    // can notice: the API would also have revoked the tokens.
    const disabled = await setup();
    await db.query(`UPDATE users SET is_disabled = true WHERE tenant_id = $1 AND user_id = $2`, [
      disabled.tenantId,
      disabled.user.user_id,
    ]);
    expect(
      await oauthError(
        client.fetchUserInfo(disabled.config, disabled.tokens.access_token, disabled.user.user_id),
      ),
    ).toBe('invalid_token');
    expect(
      await oauthError(client.refreshTokenGrant(disabled.config, disabled.tokens.refresh_token!)),
    ).toBe('invalid_grant');

    const grantless = await setup();
    await db.query(`DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = 'Grant'`, [
      grantless.tenantId,
    ]);
    expect(
      await oauthError(
        client.fetchUserInfo(
          grantless.config,
          grantless.tokens.access_token,
          grantless.user.user_id,
        ),
      ),
    ).toBe('invalid_token');
    expect(
      (await client.tokenIntrospection(grantless.config, grantless.tokens.access_token)).active,
    ).toBe(false);

    // Without offline_access the tokens live as long as the browser session.
    const bound = await setup('openid profile');
    await db.query(`DELETE FROM oidc_payloads WHERE tenant_id = $1 AND model = 'Session'`, [
      bound.tenantId,
    ]);
    expect(
      await oauthError(
        client.fetchUserInfo(bound.config, bound.tokens.access_token, bound.user.user_id),
      ),
    ).toBe('invalid_token');
    expect((await client.tokenIntrospection(bound.config, bound.tokens.access_token)).active).toBe(
      false,
    );
  });

  it('hands out nothing when saving fails, and leaves the refresh token unused', async () => {
    const { user, config, tokens, c } = await setup();
    // Access tokens cannot be stored for a moment: the refresh must fail as a whole.
    await db.query(
      `ALTER TABLE oidc_payloads ADD CONSTRAINT test_no_access_tokens CHECK (model <> 'AccessToken') NOT VALID`,
    );
    try {
      const r = await fetch(`${config.serverMetadata().token_endpoint}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token!,
        }),
      });
      expect(r.status).toBe(500);
      const body = await r.json();
      expect(body).toEqual({ error: 'server_error', error_description: expect.any(String) });
      expect(JSON.stringify(body)).not.toContain('refresh_token');
    } finally {
      await db.query(`ALTER TABLE oidc_payloads DROP CONSTRAINT test_no_access_tokens`);
    }
    // The consume went down with the failed write: the token still works (no reuse detected).
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await client.fetchUserInfo(config, next.access_token, user.user_id)).sub).toBe(
      user.user_id,
    );
  });
});
