import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Raw SQL in src/ goes through the tenancy library: `TenantRepository.sql` for one tenant's
 * rows (it insists on `tenant_id = $1`), `crossTenant(...).sql` for what is cross-tenant by
 * design. A `.query('…')` / `.query(\`…\`)` with a SQL literal anywhere else fails here.
 */
const SRC = dirname(fileURLToPath(import.meta.url));
/** Files allowed to call `.query(` with a SQL literal. Keep it empty. */
const ALLOWED: string[] = [];
const RAW_QUERY = /\.query\s*(<[^>]*>)?\(\s*['"`]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** `file:line` of every raw `.query(` with a string literal in `text`. */
export function rawQueries(file: string, text: string): string[] {
  return [...text.matchAll(RAW_QUERY)].map(
    (m) => `${file}:${text.slice(0, m.index).split('\n').length}`,
  );
}

describe('raw SQL outside the tenancy library', () => {
  it('finds none in src/', () => {
    const found = sources(SRC)
      .map((path) => relative(SRC, path))
      .filter((file) => !ALLOWED.includes(file))
      .flatMap((file) => rawQueries(file, readFileSync(join(SRC, file), 'utf8')));
    expect(found).toEqual([]);
  });

  it('recognises a raw query, typed or not, on one line or split', () => {
    const text = [
      "await this.dataSource.query('SELECT 1');",
      'await m.query<{ n: number }>(',
      '  `DELETE FROM t`,',
      ');',
      "await crossTenant(m).sql('ping', 'SELECT 1');",
      "this.users.query(tenantId, 'u');",
    ].join('\n');
    expect(rawQueries('x.ts', text)).toEqual(['x.ts:1', 'x.ts:2']);
  });
});
