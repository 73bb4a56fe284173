#!/usr/bin/env node
/**
 * The npm registry reachable here serves only the Linux builds of packages with per-platform
 * optional dependencies (oxlint, unrs-resolver via jest). `npm install` then leaves the other
 * platforms' optional packages out of package-lock.json, and `npm ci` refuses the lock as out of
 * sync. This adds an entry for each such package, marked optional with its os/cpu/libc, so npm ci
 * accepts the lock and skips them on this platform (nothing is fetched for them).
 * Run after `npm install` changes the lock: `npm run lock:fix`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

function platformOf(name) {
  const suffix = name.replace(/^.*binding-/, '');
  const [os, cpu, abi] = suffix.split('-');
  const entry = { os: [os], cpu: [cpu === 'wasm32' ? 'wasm32' : cpu] };
  if (os === 'linux') entry.libc = [abi?.startsWith('musl') ? 'musl' : 'glibc'];
  return entry;
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const where = `${path ? `${path}/` : ''}node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[where] || packages[hoisted]) continue;
    if (!/binding-/.test(dep)) continue;
    packages[hoisted] = { version, dev: meta.dev || undefined, optional: true, ...platformOf(dep) };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).toSorted(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} foreign-platform optional entries`);
