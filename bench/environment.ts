/**
 * `npm run bench:environment`: how much a process like our server's makes the same work dearer.
 * The bare oidc-provider's client_credentials request is measured twice, taking turns: in its
 * own process (as `npm run bench` does), and inside our server's process (bench/inside-entry.ts),
 * after the server has served the usual seeding calls through its API; our own provider is never
 * used, so the bare provider's code is not shared with it. The ratio (median of the rounds) is
 * the part of `npm run bench`'s client_credentials ratio that no change to our request path can
 * remove. Env: as `npm run bench` (BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS,
 * BENCH_ROUNDS (default 6 here), BENCH_PG_URL, BENCH_REDIS_URL).
 */
import { alternateRounds, combineRounds, formatResult, runScenario } from './harness.js';
import { freshDatabase, startBaseline, startServer } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));
const INSIDE_PORT = 39302;

const db = await freshDatabase('idp_bench');
const server = await startServer(
  db,
  39300,
  {
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    BARE_PORT: String(INSIDE_PORT),
  },
  'dist/bench/inside-entry.js',
);
const { process: alone, clients } = await startBaseline(39301);

try {
  const api = async (path: string, body: unknown) => {
    const r = await fetch(server.url + path, {
      method: 'POST',
      headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  };
  // What `npm run bench` does before its first scenario: the server's API at work.
  await api('/api/v1/tenants', { tenant_id: 'bench', display_name: 'Bench' });
  for (const alg of ['RS256', 'ES256', 'EdDSA'])
    await api('/api/v1/tenants/bench/clients', {
      name: `cc ${alg}`,
      client_type: 'confidential',
      grant_types: ['client_credentials'],
      id_token_signed_response_alg: alg,
    });

  for (const alg of ['EdDSA', 'ES256']) {
    const c = clients.find((x) => x.alg === alg)!;
    const request = (port: number) => ({
      kind: 'http' as const,
      url: `http://127.0.0.1:${port}/token`,
      method: 'POST' as const,
      headers: {
        authorization: 'Basic ' + Buffer.from(`${c.id}:${c.secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const {
      a: inside,
      b: bare,
      ratios,
    } = await alternateRounds(ROUNDS, WARMUP, (side, warmupSeconds) =>
      runScenario(request(side === 'a' ? INSIDE_PORT : 39301), {
        name:
          side === 'a' ? `bare provider inside our server, ${alg}` : `bare provider alone, ${alg}`,
        pid: side === 'a' ? server.process.pid! : alone.pid!,
        seconds: SECONDS,
        warmupSeconds,
        connections: CONNECTIONS,
      }),
    );
    console.log(formatResult(combineRounds(inside), ratios));
    console.log(formatResult(combineRounds(bare)));
  }
} finally {
  alone.kill('SIGTERM');
  await server.stop();
}
