import { invalidValue, ScimError } from './scim.errors.js';
import { parseProjection, type Projection } from './scim.projection.js';
import { LIMITS } from './scim.schemas.js';

export interface ListParams {
  filter?: string;
  startIndex: number;
  count: number;
  sortBy?: string;
  descending: boolean;
  projection: Projection;
}

/** Query parameter names compare case-insensitively: clients differ (`startindex`, `Count`). */
function pick(q: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(q ?? {})) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function integer(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,9}$/.test(v.trim())) return Number(v.trim());
  throw invalidValue(`${name} must be an integer`);
}

function text(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalidValue(`${name} must be given once, as a string`);
  return v;
}

/** From a query string (GET) or a SearchRequest body (POST .search). */
export function parseListParams(q: Record<string, unknown>): ListParams {
  const startIndex = Math.max(1, integer(pick(q, 'startIndex'), 'startIndex') ?? 1);
  const count = Math.min(
    LIMITS.filterMaxResults,
    Math.max(0, integer(pick(q, 'count'), 'count') ?? LIMITS.defaultCount),
  );
  const order = text(pick(q, 'sortOrder'), 'sortOrder')?.toLowerCase();
  if (order !== undefined && order !== 'ascending' && order !== 'descending') {
    throw invalidValue('sortOrder must be ascending or descending');
  }
  return {
    filter: text(pick(q, 'filter'), 'filter'),
    startIndex,
    count,
    sortBy: text(pick(q, 'sortBy'), 'sortBy'),
    descending: order === 'descending',
    projection: parseProjection(pick(q, 'attributes'), pick(q, 'excludedAttributes')),
  };
}

export function projectionOf(q: Record<string, unknown>): Projection {
  return parseProjection(pick(q, 'attributes'), pick(q, 'excludedAttributes'));
}

function etagValues(header: string): string[] {
  return header
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^W\//i, '')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter(Boolean);
}

/** If-Match: the request applies only to the version the client saw (412 otherwise). */
export function checkIfMatch(ifMatch: string | undefined, version: number) {
  if (!ifMatch) return;
  const tags = etagValues(ifMatch);
  if (tags.includes('*') || tags.includes(String(version))) return;
  throw new ScimError(412, 'The resource has changed since that version; read it again');
}

/** If-None-Match on a read: true when the client already holds this version (304). */
export function notModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (!ifNoneMatch) return false;
  const tags = etagValues(ifNoneMatch);
  return tags.includes('*') || tags.includes(String(version));
}
