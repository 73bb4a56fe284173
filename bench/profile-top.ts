/**
 * Summarises a V8 .cpuprofile: top functions by self time, and top files (node_modules package
 * or project file) by self time. Usage: node dist/bench/profile-top.js <file.cpuprofile> [N]
 */
import { readSamples, totals } from './profile-lib.js';

const [file, n = '25'] = process.argv.slice(2);
const samples = readSamples(file);
const total = samples.reduce((a, s) => a + s.us, 0);
const top = (m: Map<string, number>) =>
  [...m.entries()]
    .toSorted((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(
  `total ${(total / 1e6).toFixed(2)} s sampled\n-- by function (self)\n${top(totals(samples, (s) => s.fn))}\n-- by package/file (self)\n${top(totals(samples, (s) => s.pkg))}`,
);
