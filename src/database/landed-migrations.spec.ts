import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A migration that has landed may have run on someone's database: editing it changes nothing
 * there and makes two databases with the same history differ. Fix forward with a new migration.
 * New migrations are sealed into migrations/landed.json with `npm run migrations:seal`.
 */
const dir = join(process.cwd(), 'migrations');
const landed = JSON.parse(readFileSync(join(dir, 'landed.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(dir).filter((f) => /^\d+-.+\.ts$/.test(f));

describe('landed migrations', () => {
  it.each(Object.keys(landed))('%s is unchanged and still present', (file) => {
    expect(files).toContain(file);
    const digest = createHash('sha256')
      .update(readFileSync(join(dir, file)))
      .digest('hex');
    expect({ file, digest }).toEqual({ file, digest: landed[file] });
  });

  it('every migration file is sealed (run `npm run migrations:seal` when it lands)', () => {
    expect(files.filter((f) => !landed[f])).toEqual([]);
  });

  it('every migration file is registered in migrations/index.ts', () => {
    const index = readFileSync(join(dir, 'index.ts'), 'utf8');
    expect(files.filter((f) => !index.includes(`'./${f.replace(/\.ts$/, '.js')}'`))).toEqual([]);
  });
});
