/**
 * `npm run bench:pin-pattern`: the server's CPU per PIN+pattern sign-in (OPAQUE) against one
 * password sign-in (bcrypt at BCRYPT_COST, 12 by default as in production), in one run on one
 * server. Both are the whole hosted flow to a code: authorize, the login page, then either the
 * password POST, or challenge → authenticate → Sign In → the interaction. The OPAQUE client
 * (with its Argon2id key stretching) runs in this process, as it runs in the user's browser,
 * so it is not on the server's bill; its time is reported apart.
 * Env: BCRYPT_COST (12), SIGNINS (20 of each, after 3 warm-ups), ROUNDS (2, alternating).
 */
import * as opaque from '@serenity-kit/opaque';
import { Browser } from '../libs/testing/browser.js';
import {
  KEY_STRETCHING,
  policyOf,
  PROTO_VERSION,
  secretOf,
} from '../src/pin-pattern/pin-pattern-policy.js';
import { DEFAULT_SETTINGS } from '../src/tenants/tenant-settings.js';
import { authorizeCode, cpuSeconds, freshDatabase, percentile, startServer } from './lib.js';

const COST = process.env.BCRYPT_COST ?? '12';
const SIGNINS = Number(process.env.SIGNINS ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const REDIRECT = 'http://127.0.0.1:39599/cb';
const PASSWORD = 'correct horse battery staple';
const TENANT = {
  tenant_id: 'pins',
  display_name: 'PIN bench',
  register_enable: true,
  use_pin: true,
  pin_size: 6,
  use_pattern: true,
  pattern_size: 3,
  login_order: ['PIN', 'PATTERN'],
  // One address does every sign-in here; a PIN challenge counts until it is finished.
  block_config: { ip: { max_attempts: 10_000, window_seconds: 60, block_seconds: 60 } },
};
const policy = policyOf({ ...DEFAULT_SETTINGS, ...TENANT } as never)!;
const SECRET = secretOf(policy, { pin: '582047', pattern: [2, 4, 6, 7, 8] });

await opaque.ready;
const db = await freshDatabase('idp_bench_pin_pattern');
const server = await startServer(db, 39120, { BCRYPT_COST: COST });
const pid = server.process.pid!;

async function post(path: string, body: unknown, key = true) {
  const r = await fetch(server.url + path, {
    method: 'POST',
    headers: {
      ...(key ? { 'x-api-key': server.operatorKey } : {}),
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<Record<string, string>>;
}

let clientMs = 0;
/** OPAQUE's client side, timed (it is the browser's cost, not the server's). */
function onClient<T>(f: () => T): T {
  const start = performance.now();
  try {
    return f();
  } finally {
    clientMs += performance.now() - start;
  }
}

async function pinSignIn(issuer: string, clientId: string) {
  const browser = new Browser();
  const url =
    `${issuer}/authorize?` +
    new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'x',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
  const first = await browser.get(url);
  const login = await browser.get(first.location!);
  const uid = /\/interaction\/([^/]+)/.exec(login.url.pathname)![1];
  const start = onClient(() => opaque.client.startLogin({ password: SECRET }));
  const c = await post(
    `/pins/authn/zkp/challenge?auth_req_id=${uid}`,
    { username: 'bob', cipherKey: start.startLoginRequest },
    false,
  );
  const done = onClient(() =>
    opaque.client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse: c.challenge_data,
      password: SECRET,
      keyStretching: KEY_STRETCHING,
    }),
  );
  if (!done) throw new Error('the PIN did not verify');
  const a = await post(
    `/pins/authn/zkp/authenticate?auth_req_id=${uid}`,
    {
      username: 'bob',
      cipherKey: start.startLoginRequest,
      challenge_id: c.challenge_id,
      challenge_data: done.finishLoginRequest,
    },
    false,
  );
  let res = await browser.get(
    `${server.url}/pins/authn/zkp/sign-in?oid_nonce=${encodeURIComponent(a.nonce)}&auth_req_id=${uid}`,
  );
  for (let hop = 0; hop < 8; hop++) {
    if (res.location?.startsWith(REDIRECT)) break;
    res = await browser.get(res.location!);
  }
  if (!res.location?.includes('code=')) throw new Error(`no code: ${res.status} ${res.url}`);
}

const f = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');

/** Server CPU-ms per sign-in and wall-clock p50 over `n` sequential sign-ins. */
async function measure(n: number, signIn: () => Promise<unknown>) {
  const times: number[] = [];
  const cpu0 = cpuSeconds(pid);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await signIn();
    times.push(performance.now() - t0);
  }
  const cpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / n;
  return {
    cpuMs,
    p50: percentile(
      times.toSorted((a, b) => a - b),
      50,
    ),
  };
}

try {
  await post('/api/v1/tenants', TENANT);
  // The password user lives in a tenant without PIN/pattern (else its sign-in would be offered
  // to set one): same server, same run.
  await post('/api/v1/tenants', { tenant_id: 'pw', display_name: 'Password bench' });
  await post('/api/v1/tenants/pw/users', { username: 'alice', password: PASSWORD });
  const pwWeb = await post('/api/v1/tenants/pw/clients', {
    name: 'web',
    client_type: 'confidential',
    first_party: true,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
  });
  const reg = onClient(() => opaque.client.startRegistration({ password: SECRET }));
  const r1 = await post(
    '/pins/authn/zkp/register/start',
    { username: 'bob', email: 'bob@example.test', registration_request: reg.registrationRequest },
    false,
  );
  const rec = opaque.client.finishRegistration({
    clientRegistrationState: reg.clientRegistrationState,
    registrationResponse: r1.registration_response,
    password: SECRET,
    keyStretching: KEY_STRETCHING,
  });
  await post(
    '/pins/authn/zkp/register',
    {
      username: 'bob',
      email: 'bob@example.test',
      encrypted_commitment: rec.registrationRecord,
      proto_version: PROTO_VERSION,
    },
    false,
  );
  const web = await post('/api/v1/tenants/pins/clients', {
    name: 'web',
    client_type: 'confidential',
    first_party: true,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
  });
  const issuer = `${server.url}/pins`;
  const password = () =>
    authorizeCode(new Browser(), {
      issuer: `${server.url}/pw`,
      clientId: pwWeb.client_id,
      scope: 'openid',
      redirectUri: REDIRECT,
      login: 'alice',
      password: PASSWORD,
    });
  const pin = () => pinSignIn(issuer, web.client_id);
  await measure(3, password);
  await measure(3, pin);
  clientMs = 0;
  const pw: number[] = [];
  const pp: number[] = [];
  const pwP50: number[] = [];
  const ppP50: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const a = await measure(SIGNINS, password);
    const b = await measure(SIGNINS, pin);
    pw.push(a.cpuMs);
    pwP50.push(a.p50);
    pp.push(b.cpuMs);
    ppP50.push(b.p50);
  }
  console.log(`bcrypt cost ${COST}, ${ROUNDS} rounds of ${SIGNINS} sign-ins each`);
  console.log(`password sign-in: server CPU ${f(pw)} ms each, p50 ${f(pwP50)} ms`);
  console.log(`PIN+pattern sign-in: server CPU ${f(pp)} ms each, p50 ${f(ppP50)} ms`);
  console.log(
    `ratio PIN+pattern / password (server CPU): ${pp.map((x, i) => (x / pw[i]).toFixed(2)).join(' / ')}; ` +
      `OPAQUE client side (this process, Argon2id ${KEY_STRETCHING}): ` +
      `${(clientMs / (ROUNDS * SIGNINS)).toFixed(0)} ms per sign-in`,
  );
} finally {
  await server.stop();
}
