import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { startTestApp, waitUntil, type TestApp } from './harness.js';
import { enrolTotp, selfToken, totpCode } from './account-support.js';
import { createClient, discover, findForm, type BrowserResponse } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD, REDIRECT } from './fixtures.js';
import { CustomUi, HEADLESS_REDIRECT } from './headless-support.js';
import { BareUpstream, createUpstream, FakeGitHub, Jars, strip, walk } from './upstream-support.js';
import { UpstreamProvidersService } from '../src/upstream/upstream-providers.service.js';
import { UpstreamSignIn } from '../src/upstream/upstream-sign-in.js';

/**
 * Upstream identity providers (issue 21), black-box: tenant B offers "Sign in with …" for
 * (1) tenant A of the same server and (2) a bare oidc-provider the test starts; a browser walks
 * B's sign-in page, the upstream's pages and back, and the app redeems B's code with
 * openid-client.
 */

const alert = (html: string) => /role="alert">([^<]*)</.exec(html)?.[1];

/** The "Sign in with …" button of a provider on B's sign-in page. */
function button(page: BrowserResponse, providerId: string): URL {
  const href = new RegExp(`<a class="upstream" href="([^"]+)" data-provider="${providerId}"`).exec(
    page.html,
  )?.[1];
  if (!href) throw new Error(`no button for ${providerId}:\n${strip(page.html)}`);
  return new URL(href.replace(/&amp;/g, '&'), page.url);
}

const isCallback = (u: URL) => u.pathname.endsWith('/upstream/bare-jit/callback');

describe('upstream sign-in', () => {
  let t: TestApp;
  const bare = new BareUpstream();
  /** Tenant B: the one whose users sign in with an upstream. */
  let B = '';
  let configB: client.Configuration;
  let localGroups: Record<'eng' | 'ops' | 'local', string>;
  const providerIds = [
    'bare-jit',
    'bare-email',
    'bare-only',
    'bare-skip',
    'bare-groups',
    'bare-hint',
    'bare-form',
  ];

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
    ({ tenantId: B } = await fixtures.tenant(t, { prefix: 'up-b' }));
    await bare.start(providerIds.map((p) => `${t.baseUrl}/${B}/upstream/${p}/callback`));
    const app = await createClient(t, B, fixtures.webApp(REDIRECT, { first_party: true }));
    configB = await discover(`${t.baseUrl}/${B}`, app.client_id, app.client_secret);
    const mk = async (name: string) =>
      (await t.http('POST', `/api/v1/tenants/${B}/groups`, { body: { name } })).body
        .group_id as string;
    localGroups = { eng: await mk('eng'), ops: await mk('ops'), local: await mk('local-only') };
    await bareProvider('bare-jit', { jit_create: true });
    await bareProvider('bare-email', { link_by_email: true });
    await bareProvider('bare-only');
    await bareProvider('bare-skip', { link_by_email: true, second_factor: 'skip' });
    await bareProvider('bare-form', { jit_create: true, response_mode: 'form_post' });
    await bareProvider('bare-hint', { jit_create: true, domain_hints: ['hinted.test'] });
    await bareProvider('bare-groups', {
      jit_create: true,
      group_sync: true,
      group_mapping: { 'corp-eng': localGroups.eng, 'corp-ops': localGroups.ops },
    });
  }, 60_000);

  afterAll(async () => {
    await bare.close();
    await t?.close();
  });

  const bareProvider = (providerId: string, extra: Record<string, unknown> = {}) =>
    createUpstream(t, B, {
      provider_id: providerId,
      label: `Corp ${providerId}`,
      issuer: bare.issuer,
      client_id: bare.clientId,
      client_secret: bare.clientSecret,
      scopes: ['openid', 'email', 'profile', 'groups'],
      ...extra,
    });

  interface Begun {
    jars: Jars;
    verifier: string;
    state: string;
    nonce: string;
    /** B's sign-in page. */
    page: BrowserResponse;
  }

  /** An authorization request of B's app, up to B's sign-in page. */
  async function begin(config = configB, jars = new Jars()): Promise<Begun> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    let page = await jars.get(url);
    while (page.status === 303 || page.status === 302) page = await jars.get(page.location!);
    expect(page.status).toBe(200);
    return { jars, verifier, state, nonce, page };
  }

  /** Clicks the provider's button and walks the upstream as `login`. */
  async function viaBare(
    b: Begun,
    providerId: string,
    login: string,
    o: { rewrite?: (u: URL) => URL; until?: (u: URL) => boolean } = {},
  ) {
    const start = await b.jars.get(button(b.page, providerId));
    return walk(b.jars, start, { stopAt: REDIRECT, upstream: bare.issuer, login, ...o });
  }

  /** B's authorization request with extra parameters, to its first answer. */
  async function authorize(extra: Record<string, string>, jars = new Jars()) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(configB, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: client.randomState(),
      ...extra,
    });
    let res = await jars.get(url);
    while ((res.status === 303 || res.status === 302) && !res.location!.includes('/interaction/'))
      res = await jars.get(res.location!);
    return { jars, res: await jars.get(res.location!) };
  }

  async function tokensAt(b: Begun, res: BrowserResponse, config = configB) {
    if (!res.location?.startsWith(REDIRECT))
      throw new Error(`not back at the app: ${res.status} ${res.url}\n${strip(res.html)}`);
    return client.authorizationCodeGrant(config, new URL(res.location), {
      pkceCodeVerifier: b.verifier,
      expectedState: b.state,
      expectedNonce: b.nonce,
    });
  }

  async function userByName(username: string) {
    const r = await t.http('GET', `/api/v1/tenants/${B}/users/by-username/${username}`);
    return r;
  }

  it('creates a user just in time, links the upstream sub and issues B tokens with amr fed', async () => {
    bare.accounts.set('dana-sub', {
      email: `dana-${B}@corp.test`,
      email_verified: true,
      preferred_username: 'dana',
      name: 'Dana Scully',
    });
    const b = await begin();
    // The sign-in page shows the provider's button under the local methods.
    expect(b.page.html).toContain('Sign in with Corp bare-jit');
    const done = await viaBare(b, 'bare-jit', 'dana-sub');
    const tokens = await tokensAt(b, done);
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(['fed']);
    const user = await userByName('dana');
    expect(user.status).toBe(200);
    expect(claims.sub).toBe(user.body.user_id);
    expect(user.body).toMatchObject({ email: `dana-${B}@corp.test`, is_verified: true });
    expect(user.body.display_name).toBe('Dana Scully');

    // A second sign-in finds the link by sub: the same user, no second account.
    const again = await begin();
    const tokens2 = await tokensAt(again, await viaBare(again, 'bare-jit', 'dana-sub'));
    expect(tokens2.claims()!.sub).toBe(user.body.user_id);
    const list = await t.http('GET', `/api/v1/tenants/${B}/users?username=dana&limit=10`);
    expect(list.body.total_count).toBe(1);
  });

  it('links an existing user by a verified email, and refuses an unverified one', async () => {
    const erin = await fixtures.user(t, B, { username: 'erin', email: `erin-${B}@corp.test` });
    const frank = await fixtures.user(t, B, { username: 'frank', email: `frank-${B}@corp.test` });
    bare.accounts.set('erin-sub', { email: `erin-${B}@corp.test`, email_verified: true });
    bare.accounts.set('frank-sub', { email: `frank-${B}@corp.test`, email_verified: false });

    const b = await begin();
    const tokens = await tokensAt(b, await viaBare(b, 'bare-email', 'erin-sub'));
    expect(tokens.claims()!.sub).toBe(erin.user_id);

    const refused = await begin();
    const page = await viaBare(refused, 'bare-email', 'frank-sub');
    expect(page.status).toBe(403);
    expect(alert(page.html)).toContain('did not confirm that this email address is yours');
    expect(page.html).toContain(`/interaction/`);
    expect(page.html).toContain('Back to sign in');
    // Nothing was linked: frank is still reachable only with his password.
    expect(frank.user_id).toBeTruthy();
  });

  it('refuses an upstream identity with no link when the provider only signs in linked users', async () => {
    await fixtures.user(t, B, { username: 'gina', email: `gina-${B}@corp.test` });
    bare.accounts.set('gina-sub', { email: `gina-${B}@corp.test`, email_verified: true });
    const b = await begin();
    const page = await viaBare(b, 'bare-only', 'gina-sub');
    expect(page.status).toBe(403);
    expect(alert(page.html)).toBe('No account is linked to this Corp bare-only identity.');
    expect((await userByName('gina-sub')).status).toBe(404);
  });

  it('refuses a tampered state, a replayed callback and a tampered nonce with readable pages', async () => {
    bare.accounts.set('hank-sub', { email: `hank-${B}@corp.test`, email_verified: true });

    // State: the callback's state is not the one this browser left with.
    const s = await begin();
    const atCallback = await viaBare(s, 'bare-jit', 'hank-sub', { until: isCallback });
    const callback = new URL(atCallback.location!);
    const forged = new URL(callback);
    forged.searchParams.set('state', client.randomState());
    const tampered = await s.jars.get(forged);
    expect(tampered.status).toBe(400);
    expect(tampered.html).toContain('invalid_state');

    // Replay: the genuine callback after the state cookie was used (cleared) is refused too.
    const r = await begin();
    const genuine = await viaBare(r, 'bare-jit', 'hank-sub', { until: isCallback });
    const first = await r.jars.get(genuine.location!);
    expect(first.status).toBe(303);
    const replay = await r.jars.get(genuine.location!);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('invalid_state');

    // Nonce: the upstream is asked for another nonce than the one kept; its ID token is refused.
    const n = await begin();
    const page = await viaBare(n, 'bare-jit', 'hank-sub', {
      rewrite: (u) => {
        if (u.href.startsWith(`${bare.issuer}/auth?`)) u.searchParams.set('nonce', 'forged-nonce');
        return u;
      },
    });
    expect(page.status).toBe(400);
    expect(alert(page.html)).toMatch(/refused.*nonce/i);
    // No user was made from the refused answer.
    expect((await userByName('hank')).status).toBe(404);
  });

  it('refuses an ID token whose signature does not verify against the upstream keys', async () => {
    const forged = new BareUpstream();
    await forged.start([`${t.baseUrl}/${B}/upstream/bare-forged/callback`]);
    try {
      await forged.forgeKeys();
      forged.accounts.set('ivan-sub', { email: `ivan-${B}@corp.test`, email_verified: true });
      await createUpstream(t, B, {
        provider_id: 'bare-forged',
        label: 'Corp forged',
        issuer: forged.issuer,
        client_id: forged.clientId,
        client_secret: forged.clientSecret,
        scopes: ['openid', 'email', 'profile'],
        jit_create: true,
      });
      const b = await begin();
      const start = await b.jars.get(button(b.page, 'bare-forged'));
      const page = await walk(b.jars, start, {
        stopAt: REDIRECT,
        upstream: forged.issuer,
        login: 'ivan-sub',
      });
      expect(page.status).toBeGreaterThanOrEqual(400);
      expect(page.status).toBeLessThan(500);
      expect(page.location ?? '').not.toContain(REDIRECT);
      expect(alert(page.html)).toBeTruthy();
      expect((await userByName('ivan')).status).toBe(404);
      expect((await userByName('ivan-sub')).status).toBe(404);
    } finally {
      await forged.close();
    }
  });

  it('first sign-ins of one new identity at once end in one account, linked once', async () => {
    // The race of callbacks (two tabs, a double submit) for an identity nobody has yet, with and
    // without an address (without one, nothing unique but the link stops a second account).
    const row = (await t.app.get(UpstreamProvidersService).find(B, 'bare-jit'))!;
    const signIn = t.app.get(UpstreamSignIn);
    for (const [sub, email] of [
      ['race-sub', `racer-${B}@corp.test`],
      ['race-sub-2', undefined],
    ] as const) {
      const username = `${sub}-user`;
      const profile = { subject: sub, username, email, emailVerified: true };
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, () =>
          signIn.resolve(row, { has_username_and_email: true }, profile, {}),
        ),
      );
      const ids = new Set(outcomes.map((o) => (o.kind === 'user' ? o.user.user_id : o.kind)));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const list = await t.http('GET', `/api/v1/tenants/${B}/users?limit=500`);
      const made = list.body.data.filter((u: { username: string }) =>
        u.username.startsWith(username),
      );
      expect(made.map((u: { user_id: string }) => u.user_id)).toEqual([id]);
      const links = await t.http('GET', `/api/v1/tenants/${B}/users/${id}/identities`);
      expect(links.body.data).toHaveLength(1);
    }
  });

  it("shows the upstream's error, escaped, with the way back to the sign-in", async () => {
    // The user cancels on the upstream: oidc-provider answers access_denied.
    const b = await begin();
    const start = await b.jars.get(button(b.page, 'bare-jit'));
    let res = await b.jars.get(start.location!);
    while (res.status === 303 || res.status === 302) res = await b.jars.get(res.location!);
    const abort = /href="([^"]*\/abort)"/.exec(res.html)?.[1];
    expect(abort).toBeTruthy();
    const page = await walk(b.jars, await b.jars.get(new URL(abort!, res.url)), {
      stopAt: REDIRECT,
      upstream: bare.issuer,
    });
    expect(page.status).toBe(400);
    expect(page.html).toContain('<code>access_denied</code>');
    expect(alert(page.html)).toContain('End-User aborted interaction');
    const back = /href="([^"]*)">Back to sign in/.exec(page.html)?.[1];
    expect(back).toBe(`${new URL(b.page.url).pathname}?choose=1`);

    // Whatever the upstream writes is text on the page, never markup.
    const x = await begin();
    const left = await x.jars.get(button(x.page, 'bare-jit'));
    const state = new URL(left.location!).searchParams.get('state')!;
    const cb = new URL(`${t.baseUrl}/${B}/upstream/bare-jit/callback`);
    cb.search = new URLSearchParams({
      error: 'access_denied',
      error_description: '<script>alert(1)</script>',
      state,
    }).toString();
    const shown = await x.jars.get(cb);
    expect(shown.status).toBe(400);
    expect(shown.html).not.toContain('<script>alert(1)');
    expect(shown.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('syncs mapped groups at each sign-in: adds and removes only the mapped ones', async () => {
    const { eng, ops, local } = localGroups;
    bare.accounts.set('ivy-sub', {
      preferred_username: 'ivy',
      email: `ivy-${B}@corp.test`,
      email_verified: true,
      groups: ['corp-eng', 'unmapped'],
    });
    const b = await begin();
    const tokens = await tokensAt(b, await viaBare(b, 'bare-groups', 'ivy-sub'));
    const ivy = tokens.claims()!.sub;
    const groupsOf = async () =>
      (
        (await t.http('GET', `/api/v1/tenants/${B}/users/${ivy}/groups`)).body as Array<{
          group_id: string;
        }>
      )
        .map((g) => g.group_id)
        .toSorted();
    expect(await groupsOf()).toEqual([eng]);
    // A local group the mapping does not cover stays whatever the upstream says.
    expect(
      (await t.http('PUT', `/api/v1/tenants/${B}/groups/${local}/members/${ivy}`)).status,
    ).toBeLessThan(300);
    bare.accounts.set('ivy-sub', { ...bare.accounts.get('ivy-sub'), groups: ['corp-ops'] });
    const again = await begin();
    await tokensAt(again, await viaBare(again, 'bare-groups', 'ivy-sub'));
    expect(await groupsOf()).toEqual([ops, local].toSorted());
    await waitUntil('the group sync audit event', async () => {
      const audit = await t.http(
        'GET',
        `/api/v1/tenants/${B}/audit-events?type=user.groups_synced&limit=10`,
      );
      return audit.status === 200 && JSON.stringify(audit.body).includes(ops);
    });
  });

  it('asks for the local second factor with second_factor local, not with skip', async () => {
    const jay = await fixtures.user(t, B, { username: 'jay', email: `jay-${B}@corp.test` });
    const { secret } = await enrolTotp(t, B, await selfToken(t, B, 'jay'));
    bare.accounts.set('jay-sub', { email: `jay-${B}@corp.test`, email_verified: true });

    // bare-email has second_factor local (the default): the TOTP step follows.
    const local = await begin();
    const totpPage = await viaBare(local, 'bare-email', 'jay-sub');
    expect(totpPage.status).toBe(200);
    expect(totpPage.html).toContain('/second-factor');
    const form = findForm(totpPage.html, '/second-factor');
    let res = await local.jars.post(new URL(form.action, totpPage.url), {
      ...form.fields,
      // The enrolment used this step's code; the next step's is inside the window.
      code: await totpCode(secret, 1),
    });
    while ((res.status === 303 || res.status === 302) && !res.location!.startsWith(REDIRECT))
      res = await local.jars.get(res.location!);
    const tokens = await tokensAt(local, res);
    expect(tokens.claims()!.sub).toBe(jay.user_id);
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));

    // bare-skip: the upstream sign-in is enough.
    const skip = await begin();
    const skipped = await tokensAt(skip, await viaBare(skip, 'bare-skip', 'jay-sub'));
    expect(skipped.claims()!.sub).toBe(jay.user_id);
    expect(skipped.claims()!.amr).toEqual(['fed']);
    expect(decodeJwt(skipped.id_token!).acr).toBe('single-factor');
  });

  it('links an upstream identity from the account side, after a recent sign-in', async () => {
    const kim = await fixtures.user(t, B, { username: 'kim', email: `kim-${B}@corp.test` });
    // The upstream account's address is not kim's: only the account-side link can join them.
    bare.accounts.set('kim-sub', { email: `someone-else-${B}@corp.test`, email_verified: true });
    const jars = new Jars();
    const base = `${t.baseUrl}/${B}`;

    // Not signed in: the link page sends the browser to sign in first.
    const anonymous = await jars.get(`${base}/upstream/bare-only/link`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toBe(`${base}/account/signin`);

    // Sign in to B's account page with kim's password.
    let res = await jars.get(`${base}/account`);
    res = await walk(jars, res, {
      stopAt: REDIRECT,
      upstream: base,
      login: 'kim',
      password: PASSWORD,
      until: (u) => u.pathname === `/${B}/account`,
    });
    res = await jars.get(res.location!);
    expect(res.status).toBe(200);

    const confirm = await jars.get(`${base}/upstream/bare-only/link`);
    expect(confirm.status).toBe(200);
    const form = findForm(confirm.html, '/link');
    // A post without the page's CSRF token is refused.
    expect((await jars.post(new URL(form.action, confirm.url), { csrf: 'forged' })).status).toBe(
      403,
    );
    const left = await jars.post(new URL(form.action, confirm.url), form.fields);
    const linked = await walk(jars, left, {
      stopAt: REDIRECT,
      upstream: bare.issuer,
      login: 'kim-sub',
    });
    expect(linked.status).toBe(200);
    expect(linked.html).toContain('Corp bare-only connected');

    // Now bare-only (links only) signs kim in through that identity.
    const b = await begin();
    const tokens = await tokensAt(b, await viaBare(b, 'bare-only', 'kim-sub'));
    expect(tokens.claims()!.sub).toBe(kim.user_id);
  });

  it('signs in with another tenant of the same server as the upstream', async () => {
    const { tenantId: A } = await fixtures.tenant(t, { prefix: 'up-a' });
    const { tenantId: C } = await fixtures.tenant(t, { prefix: 'up-c' });
    const rp = await createClient(
      t,
      A,
      fixtures.webApp(`${t.baseUrl}/${C}/upstream/tenant-a/callback`, {
        allowed_scopes: ['openid', 'profile', 'email', 'groups'],
      }),
    );
    const aGroup = await t.http('POST', `/api/v1/tenants/${A}/groups`, { body: { name: 'staff' } });
    const cGroup = await t.http('POST', `/api/v1/tenants/${C}/groups`, { body: { name: 'staff' } });
    const lena = await fixtures.user(t, A, {
      username: 'lena',
      email: `lena-${A}@example.test`,
      is_verified: true,
    });
    await t.http(
      'PUT',
      `/api/v1/tenants/${A}/groups/${aGroup.body.group_id}/members/${lena.user_id}`,
    );
    await createUpstream(t, C, {
      provider_id: 'tenant-a',
      label: 'Tenant A',
      issuer: `${t.baseUrl}/${A}`,
      client_id: rp.client_id,
      client_secret: rp.client_secret,
      scopes: ['openid', 'profile', 'email', 'groups'],
      jit_create: true,
      group_sync: true,
    });
    const app = await createClient(t, C, fixtures.webApp(REDIRECT, { first_party: true }));
    const configC = await discover(`${t.baseUrl}/${C}`, app.client_id, app.client_secret);
    const b = await begin(configC);
    const start = await b.jars.get(button(b.page, 'tenant-a'));
    const done = await walk(b.jars, start, {
      stopAt: REDIRECT,
      upstream: `${t.baseUrl}/${A}/`,
      login: 'lena',
      password: PASSWORD,
    });
    const tokens = await tokensAt(b, done, configC);
    const sub = tokens.claims()!.sub;
    const user = await t.http('GET', `/api/v1/tenants/${C}/users/${sub}`);
    expect(user.body).toMatchObject({ username: 'lena', email: `lena-${A}@example.test` });
    expect(user.body.is_verified).toBe(true);
    // The empty mapping matches C's groups by name.
    const groups = await t.http('GET', `/api/v1/tenants/${C}/users/${sub}/groups`);
    expect(groups.body.map((g: { group_id: string }) => g.group_id)).toEqual([
      cGroup.body.group_id,
    ]);
  });

  it('sends an address of a hinted domain straight to its provider (login_hint or typed)', async () => {
    bare.accounts.set('olga-sub', { email: 'olga@hinted.test', email_verified: true });
    const hinted = await authorize({ login_hint: 'olga@hinted.test' });
    expect(hinted.res.status).toBe(303);
    const upstreamUrl = new URL(hinted.res.location!);
    expect(upstreamUrl.origin).toBe(bare.issuer);
    expect(upstreamUrl.searchParams.get('login_hint')).toBe('olga@hinted.test');
    expect(upstreamUrl.searchParams.get('redirect_uri')).toBe(
      `${t.baseUrl}/${B}/upstream/bare-hint/callback`,
    );
    // Cancelled at the upstream: the way back shows every way in, not the upstream again.
    let up = await hinted.jars.get(upstreamUrl);
    while (up.status === 303 || up.status === 302) up = await hinted.jars.get(up.location!);
    const abort = /href="([^"]*\/abort)"/.exec(up.html)![1];
    const cancelled = await walk(hinted.jars, await hinted.jars.get(new URL(abort, up.url)), {
      stopAt: REDIRECT,
      upstream: bare.issuer,
    });
    expect(cancelled.status).toBe(400);
    const back = /href="([^"]*)">Back to sign in/.exec(cancelled.html)![1].replace(/&amp;/g, '&');
    const chooser = await hinted.jars.get(new URL(back, cancelled.url));
    expect(chooser.status).toBe(200);
    expect(chooser.html).toContain('Sign in with Corp bare-hint');

    // Typed into the login form: the password is never checked, the provider takes over.
    const b = await begin();
    const form = findForm(b.page.html, '/login');
    const typed = await b.jars.post(new URL(form.action, b.page.url), {
      ...form.fields,
      method: 'password',
      login: 'olga@HINTED.test',
      password: 'irrelevant',
    });
    expect(typed.status).toBe(303);
    expect(typed.location!.startsWith(`${bare.issuer}/auth?`)).toBe(true);
    const tokens = await tokensAt(
      b,
      await walk(b.jars, typed, { stopAt: REDIRECT, upstream: bare.issuer, login: 'olga-sub' }),
    );
    expect(tokens.claims()!.amr).toEqual(['fed']);

    // Another domain signs in with the password as before.
    const other = await begin();
    const f2 = findForm(other.page.html, '/login');
    const wrong = await other.jars.post(new URL(f2.action, other.page.url), {
      ...f2.fields,
      method: 'password',
      login: 'olga@elsewhere.test',
      password: 'irrelevant',
    });
    expect(wrong.status).toBe(401);
  });

  it('lists the providers to a custom UI (headless) with start URLs that finish its request', async () => {
    const c = await createClient(t, B, {
      name: 'Custom UI',
      client_type: 'confidential',
      redirect_uris: [HEADLESS_REDIRECT],
      allowed_scopes: ['openid', 'profile'],
      grant_types: ['authorization_code'],
      first_party: true,
    });
    const config = await discover(`${t.baseUrl}/${B}`, c.client_id, c.client_secret);
    const ui = new CustomUi(t, B, config, c.client_id);
    const started = await ui.start();
    expect(started.status).toBe(201);
    const listed = started.body.upstream_providers as Array<Record<string, string>>;
    expect(listed.map((p) => p.provider_id)).toEqual(expect.arrayContaining(providerIds));
    const jit = listed.find((p) => p.provider_id === 'bare-jit')!;
    expect(jit).toMatchObject({ label: 'Corp bare-jit', icon_url: null });
    expect(jit.start_url).toBe(
      `${t.baseUrl}/${B}/upstream/bare-jit/start?interaction=${started.body.auth_req_id}`,
    );
    bare.accounts.set('pia-sub', { preferred_username: 'pia', email: `pia-${B}@corp.test` });
    const jars = new Jars();
    jars.adopt(t.baseUrl, ui.browser);
    const done = await walk(jars, await jars.get(jit.start_url), {
      stopAt: HEADLESS_REDIRECT,
      upstream: bare.issuer,
      login: 'pia-sub',
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.location!), {
      pkceCodeVerifier: ui.verifier,
      expectedState: ui.state,
      expectedNonce: ui.nonce,
    });
    expect(tokens.claims()!.amr).toEqual(['fed']);
    // No verified address from the upstream: the new user's email is not marked verified.
    const pia = await userByName('pia');
    expect(pia.body).toMatchObject({ email: `pia-${B}@corp.test`, is_verified: false });
  });

  it('takes the code from a form_post answer (POST callback)', async () => {
    bare.accounts.set('quinn-sub', { preferred_username: 'quinn', email_verified: false });
    const b = await begin();
    const start = await b.jars.get(button(b.page, 'bare-form'));
    expect(new URL(start.location!).searchParams.get('response_mode')).toBe('form_post');
    let posted = false;
    const done = await walk(b.jars, start, {
      stopAt: REDIRECT,
      upstream: bare.issuer,
      login: 'quinn-sub',
      until: (u) => {
        posted ||= u.pathname.startsWith(`/${B}/interaction/`) && u.pathname.endsWith('/upstream');
        return false;
      },
    });
    if (!posted) throw new Error(`${done.status} ${done.url}\n${strip(done.html)}`);
    expect((await tokensAt(b, done)).claims()!.amr).toEqual(['fed']);
    expect((await userByName('quinn')).status).toBe(200);
  });

  it('signs in with a GitHub-shaped OAuth2 provider: its user API, its verified primary address', async () => {
    const gh = new FakeGitHub();
    await gh.start();
    try {
      await createUpstream(t, B, {
        provider_id: 'github',
        preset: 'github',
        authorization_endpoint: `${gh.origin}/login/oauth/authorize`,
        token_endpoint: `${gh.origin}/login/oauth/access_token`,
        userinfo_endpoint: `${gh.origin}/user`,
        client_id: gh.clientId,
        client_secret: gh.clientSecret,
        link_by_email: true,
        jit_create: true,
      });
      const ola = await fixtures.user(t, B, { username: 'ola', email: `ola-${B}@corp.test` });
      gh.user = { id: 777, login: 'ola-gh', name: 'Ola' };
      // An unverified primary never links; here the verified primary is ola's address.
      gh.emails = [
        { email: `ola-${B}@corp.test`, primary: true, verified: true },
        { email: 'old@elsewhere.test', primary: false, verified: false },
      ];
      const b = await begin();
      expect(b.page.html).toContain('Sign in with GitHub');
      const tokens = await tokensAt(
        b,
        await walk(b.jars, await b.jars.get(button(b.page, 'github')), {
          stopAt: REDIRECT,
          upstream: gh.origin,
        }),
      );
      expect(tokens.claims()!.sub).toBe(ola.user_id);
      const links = await t.http('GET', `/api/v1/tenants/${B}/users/${ola.user_id}/identities`);
      expect(JSON.stringify(links.body)).toContain('"subject":"777"');

      // Same GitHub account, primary address now unverified: the link by sub still holds.
      gh.emails = [{ email: `ola-${B}@corp.test`, primary: true, verified: false }];
      const again = await begin();
      const t2 = await tokensAt(
        again,
        await walk(again.jars, await again.jars.get(button(again.page, 'github')), {
          stopAt: REDIRECT,
          upstream: gh.origin,
        }),
      );
      expect(t2.claims()!.sub).toBe(ola.user_id);

      // Another GitHub account whose primary address (ola's) is unverified: refused, not linked.
      gh.user = { id: 778, login: 'mallory', email: `ola-${B}@corp.test` };
      const m = await begin();
      const refused = await walk(m.jars, await m.jars.get(button(m.page, 'github')), {
        stopAt: REDIRECT,
        upstream: gh.origin,
      });
      expect(refused.status).toBe(403);
      expect(alert(refused.html)).toContain(
        'GitHub did not confirm that this email address is yours',
      );
    } finally {
      await gh.close();
    }
  });

  it('after an admin unlinks, the upstream identity no longer reaches the user', async () => {
    bare.accounts.set('ruth-sub', {
      preferred_username: 'ruth',
      email: `ruth-${B}@corp.test`,
      email_verified: true,
    });
    const b = await begin();
    const ruth = (await tokensAt(b, await viaBare(b, 'bare-jit', 'ruth-sub'))).claims()!.sub;
    const links = await t.http('GET', `/api/v1/tenants/${B}/users/${ruth}/identities`);
    expect(links.status).toBe(200);
    const link = (links.body.data as Array<{ id: string; provider_id: string }>).find(
      (l) => l.provider_id === 'bare-jit',
    )!;
    const removed = await t.http(
      'DELETE',
      `/api/v1/tenants/${B}/users/${ruth}/identities/${link.id}`,
    );
    expect(removed.status).toBe(204);
    // bare-jit may create users, but the address is ruth's: no second account, no silent relink.
    const again = await begin();
    const page = await viaBare(again, 'bare-jit', 'ruth-sub');
    expect(page.status).toBe(403);
    expect(alert(page.html)).toContain('An account with this email address exists already');
  });

  it('refuses a disabled user as any sign-in does, after the upstream said who it is', async () => {
    bare.accounts.set('sam-sub', { preferred_username: 'sam', email_verified: false });
    const b = await begin();
    const sam = (await tokensAt(b, await viaBare(b, 'bare-jit', 'sam-sub'))).claims()!.sub;
    const off = await t.http('POST', `/api/v1/tenants/${B}/users/${sam}/disable`);
    expect(off.status).toBeLessThan(300);
    const again = await begin();
    const page = await viaBare(again, 'bare-jit', 'sam-sub');
    expect(page.status).toBe(403);
    expect(alert(page.html)).toBe('This account is disabled.');
  });

  it('keeps two round trips through one provider apart (two tabs, one browser)', async () => {
    bare.accounts.set('tara-sub', { preferred_username: 'tara', email_verified: false });
    const jars = new Jars();
    const first = await begin(configB, jars);
    const second = await begin(configB, jars);
    const left1 = await jars.get(button(first.page, 'bare-jit'));
    const left2 = await jars.get(button(second.page, 'bare-jit'));
    const o = { stopAt: REDIRECT, upstream: bare.issuer, login: 'tara-sub' };
    const t1 = await tokensAt(first, await walk(jars, left1, o));
    const t2 = await tokensAt(second, await walk(jars, left2, o));
    expect(t2.claims()!.sub).toBe(t1.claims()!.sub);
  });

  it('answers an unreachable upstream with a readable 502 page, not a 500', async () => {
    // A port nothing listens on: the bare upstream's, after it is closed.
    const gone = new BareUpstream();
    await gone.start([]);
    const issuer = gone.issuer;
    await gone.close();
    await createUpstream(t, B, {
      provider_id: 'gone',
      label: 'Gone IdP',
      issuer,
      client_id: 'x',
      scopes: ['openid'],
    });
    const b = await begin();
    const page = await b.jars.get(button(b.page, 'gone'));
    expect(page.status).toBe(502);
    expect(alert(page.html)).toBe('The sign-in service could not be reached. Try again later.');
  });
});
