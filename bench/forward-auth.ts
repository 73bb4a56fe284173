/**
 * The forward-auth check path against the discovery route, on one server in the same run:
 * CPU-seconds of the server per 1,000 requests and p99 at 32 connections (BENCH_CONNECTIONS),
 * in alternating windows so a slow spell of the shared machine falls on both.
 * Run: npm run bench:forward-auth   (BENCH_SECONDS=8 BENCH_ROUNDS=3 BENCH_WARMUP=3)
 * BENCH_RATE=<n> adds the check and discovery paced to n requests/s over the same connections
 * (latency below saturation).
 * BENCH_FLOOR=1 adds a second comparison, in turns too: the check against a bare node:http
 * server (no framework, no check) writing the check's own answer to the same request, i.e.
 * what any Node server pays here per request (parsing, the socket write, the kernel).
 * BENCH_PIN=1 pins the servers (all their threads) to CPU 0 and this process, the load
 * generator, to CPU 1 (taskset), so the generator does not queue ahead of the server on a
 * shared core: the server's own tail, as with a proxy on another machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Browser, findForm } from '../libs/testing/browser.js';
import { alternateRounds, combineRounds, runScenario, type HttpScenario } from './harness.js';
import { freshDatabase, percentile, startServer } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PASSWORD = 'bench password 0123456789';
const APP = 'app.bench.example';

/** BENCH_PIN: every thread of `target` onto one CPU. */
function pin(target: number, cpu: number) {
  if (process.env.BENCH_PIN)
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(target)], { stdio: 'ignore' });
}

const dbUrl = await freshDatabase('idp_bench_forward_auth');
const server = await startServer(dbUrl, 39105);
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      'x-api-key': server.operatorKey,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (r.status === 204 ? {} : r.json()) as Promise<Record<string, string>>;
};

try {
  const t = 'fwdbench';
  await api('POST', '/api/v1/tenants', { tenant_id: t, display_name: 'Forward-auth bench' });
  const u = await api('POST', `/api/v1/tenants/${t}/users`, {
    username: 'alice',
    password: PASSWORD,
  });
  const g = await api('POST', `/api/v1/tenants/${t}/groups`, { name: 'staff' });
  await api('PUT', `/api/v1/tenants/${t}/groups/${g.group_id}/members/${u.user_id}`);
  await api('POST', `/api/v1/tenants/${t}/protected-apps`, {
    name: 'Bench',
    hosts: [APP],
    allowed_group_ids: [g.group_id],
  });

  // One sign-in through the hosted pages; the hand-off as the app host's proxy asks for it.
  const b = new Browser();
  const rd = `http://${APP}/page`;
  let res = await b.get(`${server.url}/${t}/forward-auth/start?rd=${encodeURIComponent(rd)}`);
  const atApp = (r: typeof res) => r.location?.startsWith(`http://${APP}/`) ?? false;
  for (let hops = 0; hops < 20 && !atApp(res); hops++) {
    if (res.status === 200) {
      const form = findForm(res.html, '/login');
      res = await b.post(new URL(form.action, res.url), {
        ...form.fields,
        login: 'alice',
        password: PASSWORD,
      });
    } else res = await b.get(res.location!);
  }
  const token = new URL(res.location!).searchParams.get('token')!;
  const handoff = await fetch(
    `${server.url}/${t}/forward-auth/session?token=${encodeURIComponent(token)}`,
    {
      headers: { 'x-forwarded-host': APP },
      redirect: 'manual',
    },
  );
  const cookie = handoff.headers.getSetCookie()[0].split(';')[0];

  const check: HttpScenario = {
    kind: 'http',
    url: `${server.url}/${t}/forward-auth`,
    headers: {
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': APP,
      'x-forwarded-uri': '/page?x=1',
      accept: 'text/html',
      cookie: `other=1; ${cookie}`,
    },
  };
  const probe = await fetch(check.url, { headers: check.headers });
  if (probe.status !== 200 || probe.headers.get('remote-user') !== 'alice')
    throw new Error(`the check does not pass: ${probe.status}`);
  const discovery: HttpScenario = {
    kind: 'http',
    url: `${server.url}/${t}/.well-known/openid-configuration`,
  };

  const pid = server.process.pid!;
  pin(pid, 0);
  pin(process.pid, 1);
  const run = (name: string, s: HttpScenario, warmupSeconds: number) =>
    runScenario(s, { name, pid, seconds: SECONDS, warmupSeconds, connections: CONNECTIONS });
  if (process.env.BENCH_CHECK_ONLY || process.env.BENCH_DISCOVERY_ONLY) {
    // A profiling aid (with BENCH_CPU_PROF; compare two with profile-diff): one side, one window.
    const [name, s] = process.env.BENCH_CHECK_ONLY ? ['check', check] : ['discovery', discovery];
    const r = await run(name, s, WARMUP);
    console.log(
      `${name} alone: ${r.cpuPer1k.toFixed(3)} CPU-s/1k, ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`,
    );
  } else {
    const {
      a,
      b: base,
      ratios,
    } = await alternateRounds(ROUNDS, WARMUP, (side, w) =>
      side === 'a'
        ? run('forward-auth check', check, w)
        : run('discovery (baseline)', discovery, w),
    );
    const lines = [combineRounds(a), combineRounds(base)].map(
      (r) =>
        `${r.name.padEnd(22)} ${r.cpuPer1k.toFixed(3)} CPU-s/1k  ${Math.round(r.rps)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}`,
    );
    if (process.env.BENCH_NEST_ROUTE) {
      // What any Fastify/Nest route costs here (the platform health route), for comparison.
      const h = await run(
        'GET /health (Nest route)',
        { kind: 'http', url: `${server.url}/health` },
        1,
      );
      lines.push(`${h.name.padEnd(22)} ${h.cpuPer1k.toFixed(3)} CPU-s/1k  p99 ${h.p99} ms`);
    }
    if (process.env.BENCH_FLOOR) {
      const headers = [...probe.headers].filter(
        ([k]) => !['date', 'connection', 'keep-alive', 'content-length'].includes(k),
      );
      const port = 39106;
      const floor = spawn(
        process.execPath,
        [
          '-e',
          `const headers = ${JSON.stringify(headers.flat())};
require('node:http').createServer((req, res) => {
  res.writeHead(200, headers);
  res.end('{"success":true}');
}).listen(${port}, '127.0.0.1', () => console.log('up'));`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await once(floor.stdout!, 'data');
      pin(floor.pid!, 0);
      try {
        const bare: HttpScenario = { ...check, url: `http://127.0.0.1:${port}/${t}/forward-auth` };
        const f = await alternateRounds(ROUNDS, 1, (side, w) =>
          side === 'a'
            ? run('forward-auth check', check, w)
            : runScenario(bare, {
                name: 'bare node:http floor',
                pid: floor.pid!,
                seconds: SECONDS,
                warmupSeconds: w,
                connections: CONNECTIONS,
              }),
        );
        const fb = combineRounds(f.b);
        const fr = f.ratios.toSorted((x, y) => x - y);
        lines.push(
          `${fb.name.padEnd(22)} ${fb.cpuPer1k.toFixed(3)} CPU-s/1k  ${Math.round(fb.rps)} req/s  p50 ${fb.p50} ms  p99 ${fb.p99} ms (check in the same turns: ${combineRounds(f.a).cpuPer1k.toFixed(3)}, p99 ${combineRounds(f.a).p99} ms)`,
          `check ÷ bare floor CPU: median ${percentile(fr, 50).toFixed(2)}× (${fr[0].toFixed(2)}–${fr[fr.length - 1].toFixed(2)})`,
        );
      } finally {
        floor.kill();
      }
    }
    if (process.env.BENCH_RATE) {
      // Latency below saturation: the same 32 connections paced to a fixed total rate, check
      // and discovery in turn (a closed loop at saturation measures queueing, not the route).
      const rate = Number(process.env.BENCH_RATE);
      for (const [name, s] of [
        ['check at a fixed rate', check],
        ['discovery, same rate', discovery],
      ] as const) {
        const r = await runScenario(s, {
          name,
          pid,
          seconds: SECONDS,
          warmupSeconds: 1,
          connections: CONNECTIONS,
          rate,
        });
        lines.push(
          `${`${r.name} (${rate}/s)`.padEnd(22)} ${r.cpuPer1k.toFixed(3)} CPU-s/1k  ${Math.round(r.rps)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}`,
        );
      }
    }
    const sorted = ratios.toSorted((x, y) => x - y);
    console.log(
      [
        `forward-auth bench: ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections${process.env.BENCH_PIN ? ', servers on CPU 0, generator on CPU 1' : ''}`,
        ...lines,
        `check ÷ discovery CPU: median ${percentile(sorted, 50).toFixed(2)}× (${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)})`,
      ].join('\n'),
    );
  }
} finally {
  await server.stop();
}
