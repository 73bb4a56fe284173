/**
 * `npm run bench:bulk-signin`: password sign-in latency alone, then while a SCIM Bulk creates
 * 1,000 users with passwords in another tenant (decision 0016). A sign-in is the whole hosted
 * flow: authorize, the login page, the password POST (one bcrypt compare), the redirect with a
 * code. Reports p50/p95/max of each phase and how long the Bulk took.
 * Env: BCRYPT_COST (8 here, 12 in production: the Bulk's length scales with 2^cost, the sign-in's
 * wait for a slot with one hash), BULK_USERS (1000), SIGNIN_CONCURRENCY (2), ALONE_SIGNINS (60),
 * and the server's PASSWORD_HASH_* variables, passed through.
 */
import { Browser } from '../libs/testing/browser.js';
import { authorizeCode, freshDatabase, percentile, startServer } from './lib.js';

const COST = process.env.BCRYPT_COST ?? '8';
const BULK_USERS = Number(process.env.BULK_USERS ?? 1000);
const CONCURRENCY = Number(process.env.SIGNIN_CONCURRENCY ?? 2);
const ALONE = Number(process.env.ALONE_SIGNINS ?? 60);
const REDIRECT = 'http://127.0.0.1:39499/cb';
const PASSWORD = 'correct horse battery staple';

const db = await freshDatabase('idp_bench_bulk_signin');
const server = await startServer(db, 39110, {
  BCRYPT_COST: COST,
  // One request carries the whole 1,000-password Bulk, as the scenario has it.
  PASSWORD_MAX_PER_REQUEST: String(Math.max(BULK_USERS, 1)),
});

const api = async (path: string, body: unknown) => {
  const r = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<Record<string, string>>;
};

/** Sign-ins by `CONCURRENCY` workers until `until()` says stop; answers each one's ms. */
async function signIns(clientId: string, issuer: string, until: (done: number) => boolean) {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (!until(times.length)) {
        const start = performance.now();
        await authorizeCode(new Browser(), {
          issuer,
          clientId,
          scope: 'openid',
          redirectUri: REDIRECT,
          login: 'alice',
          password: PASSWORD,
        });
        times.push(performance.now() - start);
      }
    }),
  );
  return times.toSorted((a, b) => a - b);
}

const fmt = (label: string, t: number[]) =>
  `${label}: ${t.length} sign-ins, p50 ${percentile(t, 50).toFixed(0)} ms, ` +
  `p95 ${percentile(t, 95).toFixed(0)} ms, max ${t.at(-1)?.toFixed(0)} ms`;

try {
  await api('/api/v1/tenants', { tenant_id: 'signin', display_name: 'Sign-ins' });
  await api('/api/v1/tenants/signin/users', { username: 'alice', password: PASSWORD });
  const web = await api('/api/v1/tenants/signin/clients', {
    name: 'web',
    client_type: 'confidential',
    first_party: true,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
  });
  await api('/api/v1/tenants', { tenant_id: 'hr', display_name: 'HR import' });
  const { api_key: scimKey } = await api('/api/v1/tenants/hr/api-keys', {
    name: 'scim',
    scopes: ['scim'],
  });
  const issuer = `${server.url}/signin`;

  await signIns(web.client_id, issuer, (n) => n >= 10); // warm-up
  const alone = await signIns(web.client_id, issuer, (n) => n >= ALONE);
  console.log(fmt(`alone (cost ${COST}, ${CONCURRENCY} at a time)`, alone));

  let bulkDone = false;
  const bulkStart = performance.now();
  const bulk = fetch(`${server.url}/hr/scim/v2/Bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${scimKey}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: BULK_USERS }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${i}`,
        data: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: `employee${i}`,
          password: `initial password ${i}`,
        },
      })),
    }),
  }).then(async (r) => {
    const body = (await r.json()) as { Operations?: Array<{ status: string }> };
    bulkDone = true;
    const created = body.Operations?.filter((o) => o.status === '201').length ?? 0;
    if (r.status !== 200 || created !== BULK_USERS)
      throw new Error(`bulk: ${r.status}, ${created} of ${BULK_USERS} created`);
    return (performance.now() - bulkStart) / 1000;
  });
  const during = await signIns(web.client_id, issuer, () => bulkDone);
  const bulkSeconds = await bulk;
  console.log(fmt(`during a ${BULK_USERS}-user Bulk with passwords`, during));
  console.log(
    `Bulk: ${BULK_USERS} users with passwords in ${bulkSeconds.toFixed(1)} s ` +
      `(${(BULK_USERS / bulkSeconds).toFixed(0)} users/s)`,
  );
} finally {
  await server.stop();
}
