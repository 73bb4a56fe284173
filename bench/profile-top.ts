/**
 * Summarises a V8 .cpuprofile: top functions by self time, and top files (node_modules package
 * or project file) by self time. Usage: node dist/bench/profile-top.js <file.cpuprofile> [N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);
const total = [...self.values()].reduce((a, b) => a + b, 0);

const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const short = url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, '');
  fnTotals.set(
    `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`,
    (fnTotals.get(`${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`) ?? 0) + us,
  );
  const pkg = url.includes('node_modules/')
    ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
    : url
      ? short.replace(/:.*$/, '')
      : functionName;
  fileTotals.set(pkg, (fileTotals.get(pkg) ?? 0) + us);
}
const top = (m: Map<string, number>) =>
  [...m.entries()]
    .toSorted((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(
  `total ${(total / 1e6).toFixed(2)} s sampled\n-- by function (self)\n${top(fnTotals)}\n-- by package/file (self)\n${top(fileTotals)}`,
);
