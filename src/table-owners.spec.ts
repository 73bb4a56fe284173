import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { getMetadataArgsStorage } from 'typeorm';
import { entities } from './entities.js';

/**
 * One owner per table (docs/decisions/0019-table-owners.md):
 * - every table has exactly one entity mapping it;
 * - a module obtains a TypeORM or tenant repository, or joins in a query builder, only for the
 *   entities it defines; another module's table is reached through that module's exports
 *   (e.g. UsersModule's UserRows, GroupsModule's GroupRows, ClientsService).
 */
const ROOT = process.cwd();
const posix = (p: string) => p.split(sep).join('/');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The module of a src path: its first folder. */
const moduleOf = (path: string) => posix(relative(ROOT, path)).split('/')[1];

/** Identifier → the repository path it is imported from (relative imports only). */
function importedNames(file: string, text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'(\.{1,2}\/[^']+)'/g)) {
    const from = normalize(join(dirname(file), m[2]));
    for (const part of m[1].split(',')) {
      const local = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (local) names.set(local, from);
    }
  }
  return names;
}

/** Entity names a file asks a repository for or joins by class. */
function entityUses(text: string): string[] {
  const used: string[] = [];
  const single =
    /(?:InjectTenantRepository|getRepository|innerJoin|leftJoin|innerJoinAndSelect|leftJoinAndSelect)\(\s*([A-Z]\w*)/g;
  for (const m of text.matchAll(single)) used.push(m[1]);
  for (const m of text.matchAll(/forFeature\(\s*\[([^\]]*)\]/g))
    used.push(
      ...m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  return used;
}

describe('table owners', () => {
  it('maps every table with exactly one entity', () => {
    const tables = new Map<string, string[]>();
    for (const e of entities) {
      const table = getMetadataArgsStorage().tables.find((t) => t.target === e);
      const name = table?.name ?? e.name;
      tables.set(name, [...(tables.get(name) ?? []), e.name]);
    }
    expect([...tables].filter(([, mapped]) => mapped.length > 1)).toEqual([]);
  });

  it("no module reaches another module's entity directly", () => {
    const bad: string[] = [];
    for (const file of files(join(ROOT, 'src'))) {
      if (posix(relative(ROOT, file)).split('/').length < 3) continue; // wiring (entity list)
      const text = readFileSync(file, 'utf8');
      const names = importedNames(file, text);
      for (const used of entityUses(text)) {
        const from = names.get(used);
        if (from && moduleOf(from) !== moduleOf(file))
          bad.push(`${posix(relative(ROOT, file))} uses ${used} of ${moduleOf(from)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
