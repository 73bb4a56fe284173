import { invalidFilter, invalidValue } from './scim.errors.js';
import type { CompValue, Filter } from './scim.filter.js';
import {
  canonicalPath,
  type ResourceSchemas,
  resolveAttrPath,
  SCHEMA_ENTERPRISE,
} from './scim.schemas.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';

/**
 * SCIM filters as SQL. Every value becomes a bound parameter; the expressions are the exact
 * index expressions of the directory migration (`lower(username) COLLATE "C"`, `external_id`,
 * `lower(coalesce(display_name, name))`), so the lookups clients make on every sync cycle
 * (userName eq, externalId eq, displayName eq) are index scans inside the tenant.
 */

type Column =
  | { kind: 'text'; expr: string; ci: boolean }
  | { kind: 'bool'; expr: string }
  | { kind: 'date'; expr: string }
  | { kind: 'uuid'; expr: string }
  | { kind: 'const'; value: string }
  | {
      kind: 'multi';
      from: string;
      where?: string;
      subs: Record<string, Column>;
      sortExpr?: string;
    };

export interface SqlParams {
  params: Record<string, unknown>;
  next: number;
}

const text = (expr: string, ci = true): Column => ({
  kind: 'text',
  expr: ci ? `lower(${expr})` : expr,
  ci,
});
const bool = (expr: string): Column => ({ kind: 'bool', expr });

function jsonArray(field: string) {
  return `jsonb_array_elements(CASE WHEN jsonb_typeof(u.scim->'${field}') = 'array' THEN u.scim->'${field}' ELSE '[]'::jsonb END) AS e(v)`;
}

/** Sub-attributes of a jsonb list element; booleans compare as jsonb so a stray value cannot fail a cast. */
function jsonSubs(names: string[], booleans: string[] = ['primary']): Record<string, Column> {
  const subs: Record<string, Column> = {};
  for (const n of names) subs[n.toLowerCase()] = text(`e.v->>'${n}'`);
  for (const n of booleans) subs[n.toLowerCase()] = bool(`(e.v->'${n}') = 'true'::jsonb`);
  return subs;
}

const COMMON_SUBS = ['value', 'display', 'type'];
const ENT = SCHEMA_ENTERPRISE.toLowerCase();

/** The element of scim.emails without a value stands for the directory's email column. */
const EFFECTIVE_EMAILS = `CASE WHEN jsonb_typeof(u.scim->'emails') = 'array' THEN u.scim->'emails'
  WHEN u.email IS NOT NULL THEN jsonb_build_array(jsonb_build_object('type', 'work', 'primary', true))
  ELSE '[]'::jsonb END`;

const USER_COLUMNS: Record<string, Column> = {
  id: { kind: 'uuid', expr: 'u.user_id' },
  externalid: text('u.external_id', false),
  username: { kind: 'text', expr: 'lower(u.username) COLLATE "C"', ci: true },
  displayname: text('u.display_name'),
  'name.givenname': text('u.given_name'),
  'name.familyname': text('u.family_name'),
  'name.formatted': text(`u.scim #>> '{name,formatted}'`),
  'name.middlename': text(`u.scim #>> '{name,middleName}'`),
  'name.honorificprefix': text(`u.scim #>> '{name,honorificPrefix}'`),
  'name.honorificsuffix': text(`u.scim #>> '{name,honorificSuffix}'`),
  nickname: text(`u.scim->>'nickName'`),
  profileurl: text(`u.scim->>'profileUrl'`),
  title: text(`u.scim->>'title'`),
  usertype: text(`u.scim->>'userType'`),
  preferredlanguage: text(`u.scim->>'preferredLanguage'`),
  timezone: text(`u.scim->>'timezone'`),
  locale: text('u.locale'),
  active: bool('(NOT u.is_disabled)'),
  'meta.created': { kind: 'date', expr: 'u.created_at' },
  'meta.lastmodified': { kind: 'date', expr: 'u.updated_at' },
  'meta.resourcetype': { kind: 'const', value: 'User' },
  emails: {
    kind: 'multi',
    from: `jsonb_array_elements(${EFFECTIVE_EMAILS}) AS e(v)`,
    subs: { ...jsonSubs(COMMON_SUBS), value: text(`coalesce(e.v->>'value', u.email)`) },
    sortExpr: 'lower(u.email) COLLATE "C"',
  },
  phonenumbers: { kind: 'multi', from: jsonArray('phoneNumbers'), subs: jsonSubs(COMMON_SUBS) },
  ims: { kind: 'multi', from: jsonArray('ims'), subs: jsonSubs(COMMON_SUBS) },
  photos: { kind: 'multi', from: jsonArray('photos'), subs: jsonSubs(COMMON_SUBS) },
  entitlements: { kind: 'multi', from: jsonArray('entitlements'), subs: jsonSubs(COMMON_SUBS) },
  x509certificates: {
    kind: 'multi',
    from: jsonArray('x509Certificates'),
    subs: jsonSubs(COMMON_SUBS),
  },
  addresses: {
    kind: 'multi',
    from: jsonArray('addresses'),
    subs: jsonSubs([
      'formatted',
      'streetAddress',
      'locality',
      'region',
      'postalCode',
      'country',
      'type',
    ]),
  },
  roles: { kind: 'multi', from: 'unnest(u.roles) AS r(v)', subs: { value: text('r.v') } },
  groups: {
    kind: 'multi',
    from: 'group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.group_id = gm.group_id',
    where: 'gm.tenant_id = u.tenant_id AND gm.user_id = u.user_id',
    subs: {
      value: { kind: 'uuid', expr: 'gm.group_id' },
      display: text('coalesce(g.display_name, g.name)'),
    },
  },
  [`${ENT}:employeenumber`]: text(`u.scim #>> '{enterprise,employeeNumber}'`),
  [`${ENT}:costcenter`]: text(`u.scim #>> '{enterprise,costCenter}'`),
  [`${ENT}:organization`]: text(`u.scim #>> '{enterprise,organization}'`),
  [`${ENT}:division`]: text(`u.scim #>> '{enterprise,division}'`),
  [`${ENT}:department`]: text(`u.scim #>> '{enterprise,department}'`),
  [`${ENT}:manager`]: { kind: 'uuid', expr: 'u.manager_id' },
  [`${ENT}:manager.value`]: { kind: 'uuid', expr: 'u.manager_id' },
};

const GROUP_COLUMNS: Record<string, Column> = {
  id: { kind: 'uuid', expr: 'g.group_id' },
  externalid: text('g.external_id', false),
  displayname: text('coalesce(g.display_name, g.name)'),
  'meta.created': { kind: 'date', expr: 'g.created_at' },
  'meta.lastmodified': { kind: 'date', expr: 'g.updated_at' },
  'meta.resourcetype': { kind: 'const', value: 'Group' },
  members: {
    kind: 'multi',
    from: 'group_members gm JOIN users mu ON mu.tenant_id = gm.tenant_id AND mu.user_id = gm.user_id',
    where: 'gm.tenant_id = g.tenant_id AND gm.group_id = g.group_id',
    subs: {
      value: { kind: 'uuid', expr: 'gm.user_id' },
      display: text('coalesce(mu.display_name, mu.username)'),
      type: { kind: 'const', value: 'User' },
    },
  },
};

export type ResourceKind = 'User' | 'Group';

function columnsOf(kind: ResourceKind) {
  return kind === 'User' ? USER_COLUMNS : GROUP_COLUMNS;
}

function resolveColumn(
  resource: ResourceSchemas,
  kind: ResourceKind,
  attr: string,
): { col: Column; sub?: string } {
  const resolved = resolveAttrPath(resource, attr);
  if (!resolved) throw invalidFilter(`Unknown attribute "${attr}"`);
  if (resolved.attr.name === 'password') throw invalidFilter('password cannot be filtered on');
  const columns = columnsOf(kind);
  const path = canonicalPath(resolved, resource).toLowerCase();
  if (columns[path]) return { col: columns[path] };
  const base = canonicalPath({ ...resolved, sub: undefined }, resource).toLowerCase();
  const col = columns[base];
  if (col?.kind === 'multi' && resolved.sub) return { col, sub: resolved.sub.name.toLowerCase() };
  throw invalidFilter(`"${attr}" cannot be filtered on`);
}

function param(p: SqlParams, value: unknown): string {
  const name = `scimp${p.next++}`;
  p.params[name] = value;
  return `:${name}`;
}

function likeEscape(s: string) {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function compareColumn(
  col: Column,
  op: Filter['op'],
  value: CompValue | undefined,
  p: SqlParams,
  attr: string,
): string {
  if (col.kind === 'multi') {
    const sub = col.subs.value;
    if (!sub) throw invalidFilter(`"${attr}" needs a sub-attribute`);
    if (op === 'pr')
      return `EXISTS (SELECT 1 FROM ${col.from}${col.where ? ` WHERE ${col.where}` : ''})`;
    return exists(col, compareColumn(sub, op, value, p, attr));
  }
  if (col.kind === 'const') {
    if (op === 'pr') return 'TRUE';
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${op} does not apply to ${attr}`);
    const equal = typeof value === 'string' && value.toLowerCase() === col.value.toLowerCase();
    return (op === 'eq') === equal ? 'TRUE' : 'FALSE';
  }
  if (op === 'pr') {
    return col.kind === 'text'
      ? `(${col.expr} IS NOT NULL AND ${col.expr} <> '')`
      : `${col.expr} IS NOT NULL`;
  }
  if (value === null) {
    if (op === 'eq') return `${col.expr} IS NULL`;
    if (op === 'ne') return `${col.expr} IS NOT NULL`;
    throw invalidFilter(`${op} null is not a comparison`);
  }
  switch (col.kind) {
    case 'bool': {
      const b =
        typeof value === 'string' && /^(true|false)$/i.test(value)
          ? value.toLowerCase() === 'true'
          : value;
      if (typeof b !== 'boolean') throw invalidFilter(`${attr} compares with true or false`);
      if (op === 'eq') return `${col.expr} = ${param(p, b)}`;
      if (op === 'ne') return `${col.expr} <> ${param(p, b)}`;
      throw invalidFilter(`${op} does not apply to the boolean ${attr}`);
    }
    case 'date': {
      const d = typeof value === 'string' ? new Date(value) : undefined;
      if (!d || Number.isNaN(d.getTime()))
        throw invalidFilter(`${attr} compares with a date-time string`);
      const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op as string];
      if (!sqlOp) throw invalidFilter(`${op} does not apply to the date ${attr}`);
      // Clients compare with the millisecond timestamps they were shown.
      return `date_trunc('milliseconds', ${col.expr}) ${sqlOp} ${param(p, d)}`;
    }
    case 'uuid': {
      if (typeof value !== 'string') throw invalidFilter(`${attr} compares with a string`);
      if (op === 'eq')
        return UUID.test(value) ? `${col.expr} = ${param(p, value.toLowerCase())}` : 'FALSE';
      if (op === 'ne') {
        return UUID.test(value)
          ? `${col.expr} IS DISTINCT FROM ${param(p, value.toLowerCase())}`
          : 'TRUE';
      }
      return compareText(`${col.expr}::text`, op, value.toLowerCase(), p);
    }
    case 'text': {
      if (typeof value !== 'string') throw invalidFilter(`${attr} compares with a quoted string`);
      return compareText(col.expr, op, col.ci ? value.toLowerCase() : value, p);
    }
  }
}

function compareText(expr: string, op: Filter['op'], v: string, p: SqlParams): string {
  switch (op) {
    case 'eq':
      return `${expr} = ${param(p, v)}`;
    case 'ne':
      return `${expr} IS DISTINCT FROM ${param(p, v)}`;
    case 'co':
      return `${expr} LIKE ${param(p, `%${likeEscape(v)}%`)} ESCAPE '\\'`;
    case 'sw':
      return `${expr} LIKE ${param(p, `${likeEscape(v)}%`)} ESCAPE '\\'`;
    case 'ew':
      return `${expr} LIKE ${param(p, `%${likeEscape(v)}`)} ESCAPE '\\'`;
    case 'gt':
      return `${expr} > ${param(p, v)}`;
    case 'ge':
      return `${expr} >= ${param(p, v)}`;
    case 'lt':
      return `${expr} < ${param(p, v)}`;
    case 'le':
      return `${expr} <= ${param(p, v)}`;
    default:
      throw invalidFilter(`Unsupported operator ${op}`);
  }
}

function exists(col: Extract<Column, { kind: 'multi' }>, cond: string) {
  return `EXISTS (SELECT 1 FROM ${col.from} WHERE ${col.where ? `${col.where} AND ` : ''}${cond})`;
}

/** A filter inside `attr[...]`: its attribute names are sub-attributes of `col`. */
function compileSub(
  f: Filter,
  col: Extract<Column, { kind: 'multi' }>,
  p: SqlParams,
  attr: string,
): string {
  switch (f.op) {
    case 'and':
      return `(${compileSub(f.left, col, p, attr)} AND ${compileSub(f.right, col, p, attr)})`;
    case 'or':
      return `(${compileSub(f.left, col, p, attr)} OR ${compileSub(f.right, col, p, attr)})`;
    case 'not':
      return `NOT COALESCE(${compileSub(f.filter, col, p, attr)}, FALSE)`;
    case 'valuePath':
      throw invalidFilter('Value filters cannot be nested');
    default: {
      const name = f.attr.toLowerCase();
      const sub = col.subs[name];
      if (!sub) throw invalidFilter(`Unknown sub-attribute "${f.attr}" of ${attr}`);
      return compareColumn(sub, f.op, f.op === 'pr' ? undefined : f.value, p, `${attr}.${f.attr}`);
    }
  }
}

export function compileFilter(
  resource: ResourceSchemas,
  kind: ResourceKind,
  f: Filter,
  p: SqlParams,
): string {
  switch (f.op) {
    case 'and':
      return `(${compileFilter(resource, kind, f.left, p)} AND ${compileFilter(resource, kind, f.right, p)})`;
    case 'or':
      return `(${compileFilter(resource, kind, f.left, p)} OR ${compileFilter(resource, kind, f.right, p)})`;
    case 'not':
      // SQL NULL (an absent attribute) is "false" in SCIM; NOT must not turn it into "unknown".
      return `NOT COALESCE(${compileFilter(resource, kind, f.filter, p)}, FALSE)`;
    case 'valuePath': {
      const { col, sub } = resolveColumn(resource, kind, f.attr);
      if (col.kind !== 'multi' || sub) throw invalidFilter(`"${f.attr}" is not multi-valued`);
      return exists(col, compileSub(f.filter, col, p, f.attr));
    }
    default: {
      const { col, sub } = resolveColumn(resource, kind, f.attr);
      const value = f.op === 'pr' ? undefined : f.value;
      if (sub && col.kind === 'multi') {
        const subCol = col.subs[sub];
        if (!subCol) throw invalidFilter(`"${f.attr}" cannot be filtered on`);
        if (f.op === 'pr') return exists(col, compareColumn(subCol, 'pr', undefined, p, f.attr));
        return exists(col, compareColumn(subCol, f.op, value, p, f.attr));
      }
      return compareColumn(col, f.op, value, p, f.attr);
    }
  }
}

/** The ORDER BY expression for `sortBy`; multi-valued attributes sort by their primary value where the directory has one. */
export function sortExpression(
  resource: ResourceSchemas,
  kind: ResourceKind,
  sortBy: string,
): string {
  const resolved = resolveAttrPath(resource, sortBy);
  if (!resolved) throw invalidValue(`Unknown sortBy attribute "${sortBy}"`);
  const columns = columnsOf(kind);
  const path = canonicalPath(resolved, resource).toLowerCase();
  const base = canonicalPath({ ...resolved, sub: undefined }, resource).toLowerCase();
  const col = columns[path] ?? columns[base];
  if (
    col &&
    col.kind === 'multi' &&
    col.sortExpr &&
    (!resolved.sub || resolved.sub.name === 'value')
  ) {
    return col.sortExpr;
  }
  if (!col || col.kind === 'multi' || col.kind === 'const') {
    throw invalidValue(`Cannot sort by "${sortBy}"`);
  }
  return col.expr;
}
