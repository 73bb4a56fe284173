// Records the SHA-256 of every migration not yet in migrations/landed.json. Run it when a
// migration lands on main; it never rewrites an entry that is already there, so an edited
// landed migration keeps failing src/database/landed-migrations.spec.ts until it is reverted.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'migrations');
const manifestPath = join(dir, 'landed.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const added = [];
for (const file of readdirSync(dir)
  .filter((f) => /^\d+-.+\.ts$/.test(f))
  .toSorted()) {
  if (manifest[file]) continue;
  manifest[file] = createHash('sha256')
    .update(readFileSync(join(dir, file)))
    .digest('hex');
  added.push(file);
}
const sorted = Object.fromEntries(
  Object.entries(manifest).toSorted(([a], [b]) => a.localeCompare(b)),
);
writeFileSync(manifestPath, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(added.length ? `sealed: ${added.join(', ')}` : 'nothing new to seal');
