import { randomBytes } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { pbkdf2Sync } from 'node:crypto';
import pg from 'pg';
import { TotpService } from '../src/mfa/totp.service.js';
import { PasskeysService } from '../src/passkeys/passkeys.service.js';
import { UserRows } from '../src/users/user-rows.js';
import { UsersService } from '../src/users/users.service.js';
import { freshStep, totpCode } from './account-support.js';
import * as fixtures from './fixtures.js';
import { PASSWORD } from './fixtures.js';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';
import { userSignIn, userToken } from './user-token-support.js';
import { SoftAuthenticator } from './webauthn-support.js';
import { pinSignIn, registerWithPin } from './pin-pattern-support.js';
import { policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

const PASSPHRASE = 'a long transfer passphrase';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A second database on the same server, for the deployment the tenant moves to. */
async function secondDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${process.env.TEST_DATABASE_NAME}_target`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function importDoc(t: TestApp, doc: string, query = '', passphrase?: string) {
  return t.http('POST', `/api/v1/tenants/import${query}`, {
    body: doc,
    headers: {
      'content-type': 'application/x-ndjson',
      ...(passphrase ? { 'x-transfer-passphrase': passphrase } : {}),
    },
  });
}

const PIN_SETTINGS = {
  use_pin: true,
  pin_size: 6,
  use_pattern: true,
  pattern_size: 3,
  login_order: ['PIN', 'PATTERN'],
  register_enable: true,
  dynamic_registration: { enabled: true },
};
const pinPolicy = policyOf({ ...DEFAULT_SETTINGS, ...PIN_SETTINGS } as never)!;
const RIGHT_PIN = secretOf(pinPolicy, { pin: '482916', pattern: [0, 4, 8, 5, 2] });
const WRONG_PIN = secretOf(pinPolicy, { pin: '482917', pattern: [0, 4, 8, 5, 2] });

/** Dynamic registration (RFC 7591) of one client with an initial access token. */
const register = (t: TestApp, tid: string, token: string) =>
  fetch(`${t.baseUrl}/${tid}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ client_name: 'Agent', redirect_uris: ['https://rp.example.com/cb'] }),
  });

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tenant export and import', () => {
  let source: TestApp;
  let target: TestApp;
  let db: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    db = await secondDatabase();
    source = await startTestApp();
    // Another deployment: its own database and its own master key.
    target = await startTestApp({
      env: { DATABASE_URL: db.url, IDP_MASTER_KEY: randomBytes(32).toString('hex') },
    });
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    await db?.drop();
  });

  /** A tenant with a user holding a password, a passkey and TOTP, a confidential client and a group. */
  async function populatedTenant() {
    const tenant = await fixtures.tenant(source, {
      scopes: ['users:write', 'clients:write', 'groups:write', 'api-keys:write'],
    });
    const user = await source.http('POST', `/api/v1/tenants/${tenant.tenantId}/users`, {
      key: tenant.key,
      body: {
        username: 'alice',
        email: `alice-${tenant.tenantId}@example.test`,
        password: PASSWORD,
      },
    });
    expect(user.status).toBe(201);
    const userId = user.body.user_id as string;
    // bob has a password only, so the hosted sign-in asks him for nothing else.
    const bob = await source.http('POST', `/api/v1/tenants/${tenant.tenantId}/users`, {
      key: tenant.key,
      body: { username: 'bob', password: PASSWORD },
    });
    expect(bob.status).toBe(201);
    const userKey = await userToken(source, tenant.tenantId, 'alice', PASSWORD);
    const authr = new SoftAuthenticator(new URL(source.baseUrl).hostname, source.baseUrl);
    const base = `/api/v1/tenants/${tenant.tenantId}/me/passkeys`;
    const opts = await source.http('POST', `${base}/registration-options`, { key: userKey });
    const reg = await source.http('POST', `${base}/registration`, {
      key: userKey,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
      },
    });
    expect(reg.status).toBe(201);
    await freshStep();
    const totp = source.app.get(TotpService);
    const { secret } = await totp.enrol(tenant.tenantId, userId);
    const { recovery_codes } = await totp.confirm(tenant.tenantId, userId, await totpCode(secret));
    const client = await source.http('POST', `/api/v1/tenants/${tenant.tenantId}/clients`, {
      key: tenant.key,
      body: { name: 'Backend', client_type: 'confidential', grant_types: ['client_credentials'] },
    });
    expect(client.status).toBe(201);
    const group = await source.http('POST', `/api/v1/tenants/${tenant.tenantId}/groups`, {
      key: tenant.key,
      body: { name: 'staff' },
    });
    expect(group.status).toBe(201);
    const member = await source.http(
      'PUT',
      `/api/v1/tenants/${tenant.tenantId}/groups/${group.body.group_id}/members/${userId}`,
      { key: tenant.key },
    );
    expect(member.status).toBeLessThan(300);
    return {
      ...tenant,
      userId,
      authr,
      totpSecret: secret,
      recoveryCodes: recovery_codes,
      clientId: client.body.client_id as string,
      clientSecret: client.body.client_secret as string,
    };
  }

  it('moves a tenant to another deployment: password, passkey, TOTP, recovery code and client secret keep working', async () => {
    const s = await populatedTenant();
    const exported = await source.http(
      'GET',
      `/api/v1/tenants/${s.tenantId}/export?signing_keys=true`,
      { headers: { 'x-transfer-passphrase': PASSPHRASE } },
    );
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const records = lines(exported.text);
    expect(records[0]).toMatchObject({ type: 'header', format: 'idp-tenant-export', version: 1 });
    expect(records.at(-1)).toMatchObject({ type: 'end' });
    // Secrets are sealed for transport: none appears in the clear.
    expect(exported.text).not.toContain(s.clientSecret);
    expect(exported.text).not.toContain(s.totpSecret);
    expect(exported.text).not.toMatch(/"d":"/);

    const copy = uniqueTenantId('copy');
    const wrong = await importDoc(
      target,
      exported.text,
      `?tenant_id=${copy}`,
      'not the passphrase!',
    );
    expect(wrong.status).toBe(400);
    expect((await target.http('GET', `/api/v1/tenants/${copy}`)).status).toBe(404);

    // A sealed secret moved to another record does not open there (each is bound to its record).
    const totpSecret = records.find((r) => r.type === 'totp')!.secret;
    const swapped = exported.text
      .split('\n')
      .map((l) => {
        const r = l ? (JSON.parse(l) as Record<string, unknown>) : null;
        return r?.type === 'client' && r.client_secret
          ? JSON.stringify({ ...r, client_secret: totpSecret })
          : l;
      })
      .join('\n');
    const tampered = await importDoc(target, swapped, `?tenant_id=${copy}`, PASSPHRASE);
    expect(tampered.status).toBe(400);
    expect(tampered.body.detail).toMatch(/does not open/);
    expect((await target.http('GET', `/api/v1/tenants/${copy}`)).status).toBe(404);

    const imported = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({
      tenant_id: copy,
      source_tenant_id: s.tenantId,
      created: true,
      counts: {
        users: 2,
        passkeys: 1,
        totp: 1,
        recovery_codes: 10,
        groups: 1,
        group_members: 1,
        signing_keys: 3,
      },
    });

    // The same passwords: bob signs in through the hosted page (tokens signed with the same
    // keys); alice's password is right too (her sign-in then asks for TOTP, checked below).
    const signIn = await userSignIn(target, copy, 'bob', PASSWORD);
    expect(signIn.tokens.access_token).toEqual(expect.any(String));
    const directory = target.app.get(UsersService);
    const alice = await directory.findForLogin(copy, 'alice');
    expect(await directory.verifyPassword(copy, alice, PASSWORD)).toBe(true);
    expect(await directory.verifyPassword(copy, alice, 'not her password')).toBe(false);
    const jwksSource = await source.http('GET', `/${s.tenantId}/jwks`, { key: null });
    const jwksTarget = await target.http('GET', `/${copy}/jwks`, { key: null });
    expect(jwksTarget.body.keys.map((k: { kid: string }) => k.kid).toSorted()).toEqual(
      jwksSource.body.keys.map((k: { kid: string }) => k.kid).toSorted(),
    );

    // The same passkey, presented to the new deployment.
    const passkeys = target.app.get(PasskeysService);
    const options = await passkeys.authenticationOptions(copy, 'alice');
    const assertion = s.authr.assert(options.options.challenge, { origin: target.baseUrl });
    expect(
      await passkeys.verifyAuthentication(copy, options.challenge_id, assertion as never),
    ).toBe(s.userId);

    // TOTP secret re-sealed for the new master key; a recovery code made under the old one.
    const totp = target.app.get(TotpService);
    expect(await totp.verifyTotp(copy, s.userId, await totpCode(s.totpSecret, 1))).toBe(true);
    expect(await totp.consumeRecoveryCode(copy, s.userId, s.recoveryCodes[0]!)).toBe(true);
    expect(await totp.consumeRecoveryCode(copy, s.userId, s.recoveryCodes[0]!)).toBe(false);

    // The same client gets tokens with its secret.
    const token = await target.http('POST', `/${copy}/token`, {
      key: null,
      headers: {
        authorization: basic(s.clientId, s.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(200);
    expect(token.body.access_token).toEqual(expect.any(String));

    // Again: nothing new, and the spent recovery code stays spent.
    const again = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const users = await target.http('GET', `/api/v1/tenants/${copy}/users`);
    expect(users.body.total_count).toBe(2);
    expect(await totp.recoveryCodesLeft(copy, s.userId)).toBe(9);
    expect(await totp.consumeRecoveryCode(copy, s.userId, s.recoveryCodes[0]!)).toBe(false);
    expect(await totp.consumeRecoveryCode(copy, s.userId, s.recoveryCodes[1]!)).toBe(true);
  });

  it('leaves secrets out on request and refuses a cut or tampered document without writing anything', async () => {
    const s = await populatedTenant();
    const bare = await source.http('GET', `/api/v1/tenants/${s.tenantId}/export?secrets=omit`);
    expect(bare.status).toBe(200);
    const records = lines(bare.text);
    expect(records.filter((r) => r.type === 'totp' || r.type === 'signing_key')).toEqual([]);
    expect(
      records.find((r) => r.type === 'client' && r.client_id === s.clientId),
    ).not.toHaveProperty('client_secret');

    const copy = uniqueTenantId('bare');
    const cut = bare.text.trim().split('\n').slice(0, -2).join('\n');
    const refused = await importDoc(target, cut, `?tenant_id=${copy}`);
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/end record/);
    expect((await target.http('GET', `/api/v1/tenants/${copy}`)).status).toBe(404);

    const imported = await importDoc(target, bare.text, `?tenant_id=${copy}`);
    expect(imported.status).toBe(200);
    expect(imported.body.counts.clients_without_secret).toBeGreaterThanOrEqual(1);
    // Fresh signing keys were made for the tenant, and the password still works.
    const signIn = await userSignIn(target, copy, 'bob', PASSWORD);
    expect(signIn.tokens.access_token).toEqual(expect.any(String));

    const noPassphrase = await source.http('GET', `/api/v1/tenants/${s.tenantId}/export`);
    expect(noPassphrase.status).toBe(400);
    const tenantKey = await source.http(
      'GET',
      `/api/v1/tenants/${s.tenantId}/export?secrets=omit`,
      {
        key: s.key,
      },
    );
    expect(tenantKey.status).toBe(403);
  });

  it('imports users from other products: bcrypt as is, argon2id and PBKDF2 verified then re-hashed', async () => {
    const tenantId = uniqueTenantId('legacy');
    const salt = randomBytes(16);
    const pbkdf2 = `$pbkdf2-sha256$i=100000$${salt.toString('base64').replace(/=+$/, '')}$${pbkdf2Sync(
      PASSWORD,
      salt,
      100_000,
      32,
      'sha256',
    )
      .toString('base64')
      .replace(/=+$/, '')}`;
    const users = [
      { username: 'argon', password_hash: await argon2Hash(PASSWORD) },
      { username: 'pbkdf', password_hash: pbkdf2 },
    ].map((u) => ({ type: 'user', user_id: crypto.randomUUID(), ...u }));
    const doc = [
      {
        type: 'header',
        format: 'idp-tenant-export',
        version: 1,
        tenant_id: tenantId,
        secrets: { mode: 'omit' },
      },
      { type: 'tenant', display_name: 'Imported', settings: {} },
      ...users,
      { type: 'end', counts: { tenant: 1, user: 2 } },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const imported = await importDoc(target, doc);
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({
      tenant_id: tenantId,
      created: true,
      counts: { users: 2 },
    });
    const rows = target.app.get(UserRows);
    for (const u of users) {
      const before = await rows.load(tenantId, u.user_id);
      expect(before?.password_hash).toBe(u.password_hash);
      const s = await userSignIn(target, tenantId, u.username, PASSWORD);
      expect(s.tokens.access_token).toEqual(expect.any(String));
      const after = await rows.load(tenantId, u.user_id);
      expect(after?.password_hash).toMatch(/^\$2b\$/);
      // The bcrypt hash now answers the same password.
      expect(
        (await userSignIn(target, tenantId, u.username, PASSWORD)).tokens.access_token,
      ).toBeTruthy();
    }

    const unknown = doc.replace(/\$argon2id\$[^"]+/, 'md5:abc');
    const bad = await importDoc(target, unknown, `?tenant_id=${uniqueTenantId('bad')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/password_hash/);
  });
  it('refuses malformed documents with a problem naming the line, and writes nothing', async () => {
    const tenantId = uniqueTenantId('malformed');
    const header = JSON.stringify({
      type: 'header',
      format: 'idp-tenant-export',
      version: 1,
      tenant_id: tenantId,
      secrets: { mode: 'omit' },
    });
    const tenant = JSON.stringify({ type: 'tenant', display_name: 'M', settings: {} });
    const cases: Array<[string, RegExp]> = [
      [`${header}\n{not json`, /line 2 is not JSON/],
      [`${header}\n${tenant}\n{"type":"spaceship"}`, /unknown record type spaceship/],
      [`${header}\n{"type":"user","user_id":"x","username":"u"}`, /tenant record must come first/],
      [
        `${JSON.stringify({ type: 'header', format: 'idp-tenant-export', version: 9 })}`,
        /version 9/,
      ],
      ['{"type":"tenant"}', /header/],
    ];
    for (const [doc, detail] of cases) {
      const r = await importDoc(target, doc);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
      expect(r.body.detail).toMatch(detail);
    }
    const json = await target.http('POST', '/api/v1/tenants/import', { body: { type: 'header' } });
    expect(json.status).toBe(400);
    expect((await target.http('GET', `/api/v1/tenants/${tenantId}`)).status).toBe(404);
  });
  it("imports a document larger than the API's 1 MB JSON body limit, streamed in batches", async () => {
    const tenantId = uniqueTenantId('large');
    const hash = '$2b$04$' + 'a'.repeat(53);
    const users = Array.from({ length: 5000 }, (_, i) =>
      JSON.stringify({
        type: 'user',
        user_id: crypto.randomUUID(),
        username: `user${i}`,
        email: `user${i}@example.test`,
        display_name: `User number ${i} of a tenant moved in from elsewhere`,
        password_hash: hash,
      }),
    );
    const doc = [
      JSON.stringify({
        type: 'header',
        format: 'idp-tenant-export',
        version: 1,
        tenant_id: tenantId,
        secrets: { mode: 'omit' },
      }),
      JSON.stringify({ type: 'tenant', display_name: 'Large', settings: {} }),
      ...users,
      JSON.stringify({ type: 'end', counts: { tenant: 1, user: users.length } }),
    ].join('\n');
    expect(Buffer.byteLength(doc)).toBeGreaterThan(1024 * 1024);
    const r = await importDoc(target, doc);
    expect(r.status).toBe(200);
    expect(r.body.counts.users).toBe(5000);
    const listed = await target.http('GET', `/api/v1/tenants/${tenantId}/users?limit=1`);
    expect(listed.body.total_count).toBe(5000);
  });

  it('carries PIN/pattern credentials with their server setup, registration tokens and protected apps: the same PIN signs in through OPAQUE', async () => {
    const tenantId = uniqueTenantId('pins');
    await fixtures.tenant(source, { tenantId, settings: PIN_SETTINGS });
    const reg = await registerWithPin(
      source,
      tenantId,
      { username: 'pinny', email: `pinny-${tenantId}@example.test` },
      RIGHT_PIN,
    );
    expect(reg.status).toBe(201);
    const group = await source.http('POST', `/api/v1/tenants/${tenantId}/groups`, {
      body: { name: 'ops' },
    });
    expect(group.status).toBe(201);
    const app = await source.http('POST', `/api/v1/tenants/${tenantId}/protected-apps`, {
      body: {
        name: 'Grafana',
        hosts: [`grafana-${tenantId}.example.com`],
        allowed_group_ids: [group.body.group_id],
        require_2fa: true,
      },
    });
    expect(app.status).toBe(201);
    const iat = await source.http('POST', `/api/v1/tenants/${tenantId}/initial-access-tokens`, {
      body: { max_uses: 2, description: 'agents' },
    });
    expect(iat.status).toBe(201);
    const registered = await register(source, tenantId, iat.body.initial_access_token as string);
    expect(registered.status).toBe(201);
    const meta = (await registered.json()) as {
      client_id: string;
      registration_access_token: string;
    };

    const exported = await source.http('GET', `/api/v1/tenants/${tenantId}/export`, {
      headers: { 'x-transfer-passphrase': PASSPHRASE },
    });
    expect(exported.status).toBe(200);
    const records = lines(exported.text);
    const byType = (type: string) => records.filter((r) => r.type === type);
    expect(byType('pin_pattern_setup')).toHaveLength(1);
    expect(byType('pin_pattern_credential')).toEqual([
      expect.objectContaining({ user_id: reg.body.user_id, credential_identifier: 'pinny' }),
    ]);
    // Tokens travel as their hashes, never as the tokens.
    expect(byType('initial_access_token')).toHaveLength(1);
    expect(byType('client_registration')).toEqual([
      expect.objectContaining({ client_id: meta.client_id, token_hash: expect.any(String) }),
    ]);
    expect(exported.text).not.toContain(meta.registration_access_token);
    expect(exported.text).not.toContain(iat.body.initial_access_token);
    expect(byType('protected_app')).toEqual([
      expect.objectContaining({ app_id: app.body.app_id, require_2fa: true }),
    ]);
    // Clients carry their logout channels (back-channel included).
    expect(byType('client')[0]).toHaveProperty('backchannel_logout_uri');
    expect(byType('tenant')[0]).toMatchObject({
      settings: { use_pin: true, dynamic_registration: { enabled: true } },
    });

    // Another deployment (its own master key), another tenant id.
    const copy = uniqueTenantId('pins-copy');
    const imported = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(imported.status).toBe(200);
    expect(imported.body.counts).toMatchObject({
      pin_pattern_setup: 1,
      pin_pattern_credentials: 1,
      initial_access_tokens: 1,
      client_registrations: 1,
      protected_apps: 1,
    });

    // The same PIN and pattern sign in through OPAQUE; a wrong one cannot finish.
    const signIn = await pinSignIn(target, copy, 'pinny', RIGHT_PIN);
    expect(signIn.challenge.status).toBe(200);
    expect(signIn.authenticate?.status).toBe(200);
    expect(signIn.authenticate?.body.nonce).toEqual(expect.any(String));
    const wrong = await pinSignIn(target, copy, 'pinny', WRONG_PIN);
    expect(wrong.authenticate?.status ?? 401).not.toBe(200);

    // The registration access token still reads its client; the initial token has one use left.
    const read = await fetch(`${target.baseUrl}/${copy}/register/${meta.client_id}`, {
      headers: { authorization: `Bearer ${meta.registration_access_token}` },
    });
    expect(read.status).toBe(200);
    expect((await register(target, copy, iat.body.initial_access_token as string)).status).toBe(
      201,
    );
    expect((await register(target, copy, iat.body.initial_access_token as string)).status).toBe(
      401,
    );
    const apps = await target.http('GET', `/api/v1/tenants/${copy}/protected-apps`);
    expect(apps.body.data).toEqual([
      expect.objectContaining({
        app_id: app.body.app_id,
        allowed_group_ids: [group.body.group_id],
      }),
    ]);

    // A second import converges: same setup, the spent use of the initial token stays spent.
    const again = await importDoc(target, exported.text, `?tenant_id=${copy}`, PASSPHRASE);
    expect(again.status).toBe(200);
    expect((await pinSignIn(target, copy, 'pinny', RIGHT_PIN)).authenticate?.status).toBe(200);
    expect((await register(target, copy, iat.body.initial_access_token as string)).status).toBe(
      401,
    );

    // A tenant that already has PIN users of its own OPAQUE setup keeps it: the import is
    // refused (409) rather than locking them out, and writes nothing.
    const own = uniqueTenantId('pins-own');
    await fixtures.tenant(target, { tenantId: own, settings: PIN_SETTINGS });
    const local = await registerWithPin(
      target,
      own,
      { username: 'local', email: `local-${own}@example.test` },
      RIGHT_PIN,
    );
    expect(local.status).toBe(201);
    const clash = await importDoc(target, exported.text, `?tenant_id=${own}`, PASSPHRASE);
    expect(clash.status).toBe(409);
    expect(clash.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await pinSignIn(target, own, 'local', RIGHT_PIN)).authenticate?.status).toBe(200);
    expect(
      (await target.http('GET', `/api/v1/tenants/${own}/users/by-username/pinny`)).status,
    ).toBe(404);

    // Without secrets neither the setup nor the records travel (they would not verify).
    const bare = await source.http('GET', `/api/v1/tenants/${tenantId}/export?secrets=omit`);
    expect(lines(bare.text).filter((r) => String(r.type).startsWith('pin_pattern'))).toEqual([]);
  });

  it('refuses tenant settings the settings API would refuse: 400 listing the fields, nothing written', async () => {
    const tenantId = uniqueTenantId('badsettings');
    const doc = (settings: Record<string, unknown>, displayName = 'Bad') =>
      [
        {
          type: 'header',
          format: 'idp-tenant-export',
          version: 1,
          tenant_id: tenantId,
          secrets: { mode: 'omit' },
        },
        { type: 'tenant', display_name: displayName, settings },
        { type: 'end', counts: { tenant: 1 } },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n');
    const bad = {
      pin_size: 99,
      block_config: { ip: { max_attempts: 0 } },
      primary_color: 'blue',
      spaceship: true,
    };
    const refused = await importDoc(target, doc(bad));
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
    const fields = (refused.body.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'settings.pin_size',
        'settings.block_config.ip.max_attempts',
        'settings.primary_color',
        'settings.spaceship',
      ]),
    );
    expect((await target.http('GET', `/api/v1/tenants/${tenantId}`)).status).toBe(404);

    // Into an existing tenant: refused the same way, and the tenant is as it was.
    const ok = await importDoc(target, doc({ pin_size: 8 }, 'Good'));
    expect(ok.status).toBe(200);
    const again = await importDoc(target, doc({ ...bad, pin_size: 5 }, 'Changed'));
    expect(again.status).toBe(400);
    const kept = await target.http('GET', `/api/v1/tenants/${tenantId}`);
    expect(kept.body).toMatchObject({ display_name: 'Good', pin_size: 8 });
  });
});
