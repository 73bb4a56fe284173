import { DataSource } from 'typeorm';
import { SecretBox } from '../libs/crypto/index.js';
import { startTestApp, type TestApp } from './harness.js';
import { tenant, uniqueEmail } from './fixtures.js';
import { opaque, pinSignIn, registerWithPin } from './pin-pattern-support.js';
import { KEY_STRETCHING, policyOf, secretOf } from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';

/**
 * A stolen database: every row the PIN/pattern sign-in stores, read straight from PostgreSQL,
 * without the master key. From them alone a candidate PIN cannot be checked: the OPAQUE
 * server setup (OPRF seed) is sealed, and a record evaluated under any other OPRF key rejects
 * the right PIN exactly as it rejects a wrong one. The control at the end shows the same rows
 * plus the master key do allow the check, so the test notices if the seal ever goes
 * (docs/decisions/0021-pin-pattern-opaque.md).
 */
const SETTINGS = { register_enable: true, use_pin: true, pin_size: 4, use_pattern: false };
const policy = policyOf({ ...DEFAULT_SETTINGS, ...SETTINGS })!;
const PIN = '7302';
const RIGHT = secretOf(policy, { pin: PIN });
const CANDIDATES = ['0000', '1234', PIN, '9999'];

/** The attacker's offline check of one candidate against a stolen record under `serverSetup`. */
function offlineCheck(serverSetup: string, identifier: string, record: string, pin: string) {
  const password = secretOf(policy, { pin });
  const start = opaque.client.startLogin({ password });
  const { loginResponse } = opaque.server.startLogin({
    serverSetup,
    registrationRecord: record,
    startLoginRequest: start.startLoginRequest,
    userIdentifier: identifier,
  });
  return (
    opaque.client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse,
      password,
      keyStretching: KEY_STRETCHING,
    }) !== undefined
  );
}

describe('PIN/pattern rows in a database dump', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await opaque.ready;
  });
  afterAll(() => t.close());

  it('do not let anyone check a candidate PIN without the master key', async () => {
    const { tenantId } = await tenant(t, { settings: SETTINGS });
    const reg = await registerWithPin(
      t,
      tenantId,
      { username: 'alice', email: uniqueEmail(tenantId) },
      RIGHT,
    );
    expect(reg.status).toBe(201);
    // An unfinished challenge leaves server state behind too.
    expect(
      (await pinSignIn(t, tenantId, 'alice', secretOf(policy, { pin: '1111' }))).finished,
    ).toBe(false);

    const db = t.app.get(DataSource);
    const dump = async (table: string) =>
      (await db.query(`SELECT * FROM ${table} WHERE tenant_id = $1`, [tenantId])) as Array<
        Record<string, string>
      >;
    const [credentials, setups, tickets] = await Promise.all([
      dump('pin_pattern_credentials'),
      dump('pin_pattern_server_setups'),
      dump('pin_pattern_tickets'),
    ]);
    expect(credentials).toHaveLength(1);
    expect(setups).toHaveLength(1);
    expect(tickets.length).toBeGreaterThan(0);
    const record = credentials[0].registration_record;
    const identifier = credentials[0].credential_identifier;
    const sealed = setups[0].setup_sealed;

    // Nothing stored holds the secret, in clear or in any encoding a grep would find.
    const text = JSON.stringify({ credentials, setups, tickets });
    for (const needle of [PIN, RIGHT, Buffer.from(RIGHT).toString('base64')])
      expect(text).not.toContain(needle);

    // The stored setup is sealed: OPAQUE cannot use it.
    expect(() => offlineCheck(sealed, identifier, record, PIN)).toThrow();
    // Neither can the sealed challenge state be used as one.
    for (const ticket of tickets)
      expect(() => offlineCheck(ticket.payload_sealed, identifier, record, PIN)).toThrow();

    // The attacker's best move: evaluate the stolen record under an OPRF seed of their own.
    // Every candidate fails, the right one included: the rows cannot tell them apart.
    const attackerSetup = opaque.server.createSetup();
    for (const pin of CANDIDATES)
      expect([pin, offlineCheck(attackerSetup, identifier, record, pin)]).toEqual([pin, false]);

    // Control: the same rows plus the master key make the check possible, so it is the seal
    // (and nothing in this test) that stands between a dump and an offline guess.
    const setup = new SecretBox(t.config.masterKey).openString(
      sealed,
      `pin-pattern-setup:${tenantId}`,
    );
    const verdicts = CANDIDATES.map((pin) => [pin, offlineCheck(setup, identifier, record, pin)]);
    expect(verdicts).toEqual(CANDIDATES.map((pin) => [pin, pin === PIN]));
  });
});
