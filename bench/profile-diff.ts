/**
 * Where our server spends more per request than the bare provider: takes each profile's busiest
 * window (the measured one), divides self time by the requests served in it, and lists the
 * packages and functions by the difference, in microseconds per request.
 * Usage: node dist/bench/profile-diff.js <ours.cpuprofile> <ours req/s> <bare.cpuprofile>
 *        <bare req/s> [N] [window seconds = BENCH_SECONDS or 10]
 * (req/s as printed by the bench for the same run; profiling slows both sides.)
 */
import { busiestWindow, readSamples, totals, type Sample } from './profile-lib.js';

const [
  oursFile,
  oursRps,
  bareFile,
  bareRps,
  n = '30',
  seconds = process.env.BENCH_SECONDS ?? '10',
] = process.argv.slice(2);
if (!bareRps) {
  console.error('usage: profile-diff <ours.cpuprofile> <req/s> <bare.cpuprofile> <req/s> [N] [s]');
  process.exit(2);
}

function perRequest(file: string, rps: string, key: (s: Sample) => string) {
  const window = busiestWindow(readSamples(file), Number(seconds)).filter((s) => !s.idle);
  const requests = Number(rps) * Number(seconds);
  const m = totals(window, key);
  for (const [k, us] of m) m.set(k, us / requests);
  return m;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

for (const [title, key] of [
  ['package/file', (s: Sample) => s.pkg],
  ['function', (s: Sample) => s.fn],
] as const) {
  const ours = perRequest(oursFile, oursRps, key);
  const bare = perRequest(bareFile, bareRps, key);
  console.log(
    `-- by ${title} (self, µs per request): ours ${sum(ours).toFixed(1)}, bare ${sum(bare).toFixed(1)}`,
  );
  const rows = [...new Set([...ours.keys(), ...bare.keys()])]
    .map((k) => [k, ours.get(k) ?? 0, bare.get(k) ?? 0] as const)
    .toSorted((a, b) => b[1] - b[2] - (a[1] - a[2]))
    .slice(0, Number(n));
  for (const [k, o, b] of rows)
    console.log(
      `${(o - b).toFixed(1).padStart(7)}  ours ${o.toFixed(1).padStart(6)}  bare ${b.toFixed(1).padStart(6)}  ${k}`,
    );
}
