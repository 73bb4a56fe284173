import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/**
 * The module map (docs/decisions/0018-hosted-layer-and-module-map.md), checked on every import:
 * - libs/ is a library: it imports nothing from src/;
 * - domain modules never import the hosted pages (src/hosted) or the request wiring (src/access);
 * - nothing imports a controller except Nest module files;
 * - nothing imports the app wiring (the files directly in src/), which imports everything;
 * - the modules of src/ import each other without cycles;
 * - no source file is over 450 lines.
 */
const ROOT = process.cwd();

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

interface Edge {
  from: string;
  to: string;
}

/** Every relative import of the file, resolved to a repository path ending in .ts. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) =>
    relative(ROOT, normalize(join(dirname(file), s))).replace(/\.js$/, '.ts'),
  );
}

const posix = (p: string) => p.split(sep).join('/');
const edges: Edge[] = ['src', 'libs']
  .flatMap((d) => files(join(ROOT, d)))
  .flatMap((f) => importsOf(f).map((to) => ({ from: posix(relative(ROOT, f)), to: posix(to) })));

/** The module of a src file: its first folder, or `wiring` for files directly in src/. */
function moduleOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? 'wiring' : parts[1];
}

// headless is the JSON front end of the hosted sign-in: it runs hosted/interaction's rules.
const UI_AND_WIRING = new Set(['hosted', 'headless', 'access', 'wiring']);

describe('module boundaries', () => {
  it('libs/ imports nothing from src/', () => {
    expect(edges.filter((e) => e.from.startsWith('libs/') && e.to.startsWith('src/'))).toEqual([]);
  });

  it('domain modules import neither the hosted pages nor the request wiring', () => {
    const bad = edges.filter((e) => {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      return from && !UI_AND_WIRING.has(from) && (to === 'hosted' || to === 'access');
    });
    expect(bad).toEqual([]);
  });

  it('only Nest module files import controllers', () => {
    const bad = edges.filter(
      (e) => e.to.endsWith('.controller.ts') && !e.from.endsWith('.module.ts'),
    );
    expect(bad).toEqual([]);
  });

  it('nothing imports the app wiring except the entry points', () => {
    const entry = new Set(['src/main.ts', 'src/migrate.ts', 'src/openapi-export.ts']);
    const bad = edges.filter(
      (e) => moduleOf(e.to) === 'wiring' && moduleOf(e.from) !== 'wiring' && !entry.has(e.from),
    );
    expect(bad).toEqual([]);
  });

  it('the modules of src/ have no import cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const a = moduleOf(e.from);
      const b = moduleOf(e.to);
      if (!a || !b || a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    // Tarjan's strongly connected components: any component with two modules is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        for (let w = stack.pop()!; ; w = stack.pop()!) {
          onStack.delete(w);
          component.push(w);
          if (w === v) break;
        }
        if (component.length > 1) cycles.push(component.toSorted());
      }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });

  it('no source file is over 450 lines', () => {
    const long = ['src', 'libs']
      .flatMap((d) => files(join(ROOT, d)))
      .map((f) => ({
        file: posix(relative(ROOT, f)),
        lines: readFileSync(f, 'utf8').split('\n').length - 1,
      }))
      .filter((f) => f.lines > 450);
    expect(long).toEqual([]);
  });
});
