/** Reading V8 .cpuprofile files (`--cpu-prof`) for profile-top and profile-diff. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface Sample {
  /** Microseconds since the profile started. */
  at: number;
  /** Microseconds this sample stands for. */
  us: number;
  fn: string;
  /** node_modules package, project file, node:<module>, or the native frame's name. */
  pkg: string;
  idle: boolean;
}

export function readSamples(file: string): Sample[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const out: Sample[] = [];
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!;
    const short = url.replace(/^.*node_modules\//, 'nm:').replace(/^file:\/\/.*\/dist\//, '');
    const pkg = url.includes('node_modules/')
      ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
      : url
        ? short.replace(/:.*$/, '')
        : functionName;
    out.push({
      at,
      // The time until the next sample is what this one stands for.
      us: profile.timeDeltas[i + 1] ?? 0,
      fn: `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`,
      pkg,
      idle: functionName === '(idle)',
    });
  });
  return out;
}

/** The samples of the `seconds`-long stretch with the most busy time (the measured window). */
export function busiestWindow(samples: Sample[], seconds: number): Sample[] {
  const span = seconds * 1e6;
  let best = -1;
  let bestStart = 0;
  let busy = 0;
  let start = 0;
  for (let i = 0; i < samples.length; i++) {
    if (!samples[i].idle) busy += samples[i].us;
    while (samples[i].at - samples[start].at > span) {
      if (!samples[start].idle) busy -= samples[start].us;
      start++;
    }
    if (busy > best) {
      best = busy;
      bestStart = start;
    }
  }
  const from = samples[bestStart]?.at ?? 0;
  return samples.filter((s) => s.at >= from && s.at <= from + span);
}

/** Self time per key, in microseconds. */
export function totals(samples: Sample[], key: (s: Sample) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) m.set(key(s), (m.get(key(s)) ?? 0) + s.us);
  return m;
}
