import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import type { Json } from './backend.js';
import { usage } from './errors.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
}

/** A secret from an environment variable or a file (never from argv, which `ps` shows). */
export function secretFrom(
  io: Io,
  what: string,
  values: { env?: string; file?: string; stdin?: boolean },
  fallbackEnv?: string,
): Promise<string | undefined> | string | undefined {
  if (values.env !== undefined) {
    const v = io.env[values.env];
    if (!v) throw usage(`${what}: environment variable ${values.env} is empty or unset`);
    return v;
  }
  if (values.file !== undefined) return readFileSync(values.file, 'utf8').replace(/\r?\n$/, '');
  if (values.stdin) return text(io.stdin as never).then((s) => s.replace(/\r?\n$/, ''));
  return fallbackEnv ? io.env[fallbackEnv] || undefined : undefined;
}

/** Human output for a page of rows: one line each, chosen columns, tab-separated. */
export function rows(page: Json, columns: string[]): string {
  const data = (page.data as Json[] | undefined) ?? [];
  const lines = data.map((r) => columns.map((c) => String(r[c] ?? '')).join('\t'));
  const more = page.has_next ? `\n(${String(page.total_count)} in all; use --offset for more)` : '';
  return `${columns.join('\t')}\n${lines.join('\n')}${lines.length ? '' : '(none)'}${more}`;
}

export function fields(obj: Json, names: string[]): string {
  return names
    .filter((n) => obj[n] !== undefined)
    .map((n) => `${n}: ${typeof obj[n] === 'object' ? JSON.stringify(obj[n]) : String(obj[n])}`)
    .join('\n');
}
