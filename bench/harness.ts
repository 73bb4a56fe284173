import autocannon from 'autocannon';
import { cpuSeconds, percentile } from './lib.js';

export interface ScenarioResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU-seconds of the server process per 1,000 requests: the figure we compare. */
  cpuPer1k: number;
  /** Length of the measured window. */
  wallSeconds: number;
  /** CPU-seconds of the `probes` inside the window. */
  otherCpuSeconds?: Record<string, number>;
}

export interface HttpScenario {
  kind: 'http';
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** A multi-step scenario (e.g. authorize → code → token): one iteration, counted as `steps` requests. */
export interface FlowScenario {
  kind: 'flow';
  steps: number;
  /** `worker` is the index of the concurrent worker (0..connections-1), for per-worker state. */
  run: (worker: number) => Promise<boolean>;
}

export interface RunOptions {
  name: string;
  pid: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /**
   * Requests per second over all connections (HTTP only): an open pace below saturation, so
   * p99 is the latency of a request at that load rather than queueing behind the others.
   */
  rate?: number;
  /** Other cumulative CPU-second counters to read at the window's edges (flows only). */
  probes?: Record<string, () => number>;
}

async function autocannonRun(s: HttpScenario, seconds: number, connections: number, rate?: number) {
  return autocannon({
    url: s.url,
    method: s.method ?? 'GET',
    headers: s.headers,
    body: s.body,
    connections,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
  });
}

/**
 * Workers loop over the flow without a pause from the start of the warm-up to the end of the
 * window; only iterations that finish inside the window count, and CPU is read at its edges.
 * So the figures are steady-state: no ramp-up, and no tail of stragglers with idle cores (a
 * sign-in takes a second; stopping and restarting the workers would waste up to that much).
 */
async function flowRun(s: FlowScenario, o: RunOptions) {
  const latencies: number[] = [];
  let failures = 0;
  let errors = 0;
  // Shared with the workers, which read it between iterations.
  const phase = { counting: false, stop: false };
  const workers = Promise.all(
    Array.from({ length: o.connections }, async (_v, worker) => {
      while (!phase.stop) {
        const start = performance.now();
        let ok = false;
        let threw = false;
        try {
          ok = await s.run(worker);
        } catch {
          threw = true;
        }
        if (!phase.counting) continue;
        if (threw) errors += 1;
        else if (!ok) failures += 1;
        latencies.push(performance.now() - start);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
  phase.counting = true;
  const probes = Object.entries(o.probes ?? {});
  const probed0 = probes.map(([, read]) => read());
  const cpu0 = cpuSeconds(o.pid);
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  phase.counting = false;
  const cpu = cpuSeconds(o.pid) - cpu0;
  const others = Object.fromEntries(probes.map(([name, read], i) => [name, read() - probed0[i]]));
  const wallSeconds = (performance.now() - wall0) / 1000;
  phase.stop = true;
  await workers;
  latencies.sort((a, b) => a - b);
  return {
    iterations: latencies.length,
    failures,
    errors,
    cpu,
    others,
    wallSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Warm-up, then a fixed-time run; CPU is read from /proc of the server around the measured part. */
export async function runScenario(
  s: HttpScenario | FlowScenario,
  o: RunOptions,
): Promise<ScenarioResult> {
  if (s.kind === 'http') {
    await autocannonRun(s, o.warmupSeconds, o.connections, o.rate);
    const cpu0 = cpuSeconds(o.pid);
    const r = await autocannonRun(s, o.seconds, o.connections, o.rate);
    const cpu = cpuSeconds(o.pid) - cpu0;
    const total = r.requests.total;
    return {
      name: o.name,
      requests: total,
      rps: total / o.seconds,
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      wallSeconds: o.seconds,
      cpuPer1k: total ? (cpu / total) * 1000 : NaN,
    };
  }
  const r = await flowRun(s, o);
  const total = r.iterations * s.steps;
  return {
    name: o.name,
    requests: total,
    rps: total / r.wallSeconds,
    p50: r.p50,
    p99: r.p99,
    non2xx: r.failures,
    errors: r.errors,
    wallSeconds: r.wallSeconds,
    otherCpuSeconds: r.others,
    cpuPer1k: total ? (r.cpu / total) * 1000 : NaN,
  };
}

/**
 * Two sides measured in turns for `rounds` windows each, who goes first alternating, so a slow
 * spell of this shared VM falls on both. `measure(side, warmupSeconds)` runs one window; the
 * first round warms up for `warmup` seconds, later ones for 1. Ratios are a ÷ b per round.
 */
export async function alternateRounds(
  rounds: number,
  warmup: number,
  measure: (side: 'a' | 'b', warmupSeconds: number) => Promise<ScenarioResult>,
): Promise<{ a: ScenarioResult[]; b: ScenarioResult[]; ratios: number[] }> {
  const a: ScenarioResult[] = [];
  const b: ScenarioResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const warmupSeconds = round === 0 ? warmup : 1;
    const turns = [
      async () => a.push(await measure('a', warmupSeconds)),
      async () => b.push(await measure('b', warmupSeconds)),
    ];
    if (round % 2) turns.reverse();
    for (const turn of turns) await turn();
  }
  return { a, b, ratios: a.map((r, i) => r.cpuPer1k / b[i].cpuPer1k) };
}

/** One result for several windows of the same scenario: totals, median p50, worst p99. */
export function combineRounds(rounds: ScenarioResult[]): ScenarioResult {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const wallSeconds = rounds.reduce((n, r) => n + r.wallSeconds, 0);
  const cpu = rounds.reduce((n, r) => n + (r.cpuPer1k * r.requests) / 1000, 0);
  return {
    name: rounds[0].name,
    requests,
    rps: requests / wallSeconds,
    p50: percentile(
      rounds.map((r) => r.p50).toSorted((a, b) => a - b),
      50,
    ),
    p99: Math.max(...rounds.map((r) => r.p99)),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    wallSeconds,
    cpuPer1k: requests ? (cpu / requests) * 1000 : NaN,
  };
}

/**
 * One line per scenario; with `ratios` (ours ÷ bare, one per round of alternating windows), their
 * median and range.
 */
export function formatResult(r: ScenarioResult, ratios?: number[]): string {
  let ratio = '';
  if (ratios?.length) {
    const sorted = ratios.toSorted((a, b) => a - b);
    ratio =
      ` ratio ${percentile(sorted, 50).toFixed(2)}x of bare` +
      (sorted.length > 1
        ? ` (median of ${sorted.length} rounds, ${sorted[0].toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`
        : '');
  }
  return (
    `${r.name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  ` +
    `p99 ${r.p99.toFixed(1).padStart(6)} ms  non-2xx ${r.non2xx + r.errors}  cpu ${r.cpuPer1k.toFixed(3)} s/1k${ratio}`
  );
}
