import {
  assertWritable,
  coerceAttr,
  coerceElement,
  coerceSimple,
  isObject,
  requireMessageSchema,
  type ScimDoc,
} from './scim.document.js';
import { invalidPath, invalidSyntax, invalidValue, noTarget } from './scim.errors.js';
import { equalityTemplate, type Filter, matchesElement, parsePatchPath } from './scim.filter.js';
import {
  type AttrDef,
  findAttr,
  findExtension,
  type ResourceSchemas,
  resolveAttrPath,
  SCHEMA_PATCH,
  type SchemaDef,
} from './scim.schemas.js';

/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a normalised document, in memory: every operation applies to
 * a copy, and the caller validates and stores the result once, so a request's operations take
 * effect all together or not at all. scim-patch was tried first; it keeps "False" as a string,
 * matches attribute names case-sensitively and knows no schema (no mutability or type checks),
 * so the quirks below would have had to wrap it on both sides.
 *
 * Client quirks handled here (see docs in shared/scim): capitalised op names, path-less values
 * whose keys are attribute paths, `Add` meaning replace on single-valued attributes, a filtered
 * path that matches nothing creating the element (`emails[type eq "work"].value`), remove with
 * a value list (`members`), and read-only attributes (`id`) inside path-less values ignored.
 */

export type PatchOpName = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: PatchOpName;
  path?: string;
  value?: unknown;
}

export const MAX_PATCH_OPERATIONS = 1000;

export function parsePatchRequest(body: unknown): PatchOperation[] {
  const msg = requireMessageSchema(body, SCHEMA_PATCH);
  const key = Object.keys(msg).find((k) => k.toLowerCase() === 'operations');
  const ops = key ? msg[key] : undefined;
  if (!Array.isArray(ops) || ops.length === 0) {
    throw invalidSyntax('"Operations" must be a non-empty list');
  }
  if (ops.length > MAX_PATCH_OPERATIONS) {
    throw invalidValue(`At most ${MAX_PATCH_OPERATIONS} operations per request`);
  }
  return ops.map((raw, i) => {
    if (!isObject(raw)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) fields[k.toLowerCase()] = v;
    const op = typeof fields.op === 'string' ? fields.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    }
    const path = fields.path;
    if (path !== undefined && path !== null && typeof path !== 'string') {
      throw invalidPath(`Operations[${i}].path must be a string`);
    }
    if (op !== 'remove' && !('value' in fields)) {
      throw invalidValue(`Operations[${i}] (${op}) needs a value`);
    }
    return { op, path: path || undefined, value: fields.value };
  });
}

/** Lets a resource handle a multi-valued attribute itself (group members as database deltas). */
export type MultiValuedHook = (
  attr: AttrDef,
  op: PatchOpName,
  target: { filter?: Filter; sub?: AttrDef },
  value: unknown,
) => boolean;

interface Target {
  schema: SchemaDef;
  attr: AttrDef;
  sub?: AttrDef;
  filter?: Filter;
}

export class PatchEngine {
  private readonly doc: ScimDoc;

  constructor(
    private readonly resource: ResourceSchemas,
    doc: ScimDoc,
    private readonly hook?: MultiValuedHook,
  ) {
    this.doc = structuredClone(doc);
  }

  apply(ops: PatchOperation[]): ScimDoc {
    for (const op of ops) {
      if (op.path === undefined) this.applyPathless(op.op, op.value);
      else this.applyPath(op.op, op.path, op.value, false);
    }
    for (const ext of this.resource.extensions) {
      const v = this.doc[ext.id];
      if (isObject(v) && Object.keys(v).length === 0) delete this.doc[ext.id];
    }
    return this.doc;
  }

  private applyPathless(op: PatchOpName, value: unknown) {
    if (op === 'remove') throw noTarget('A remove operation needs a path');
    if (!isObject(value))
      throw invalidValue('Without a path, the value must be an object of attributes');
    for (const [key, v] of Object.entries(value)) {
      const lower = key.toLowerCase();
      if (lower === 'schemas' || lower === 'id' || lower === 'meta') continue;
      const ext = findExtension(this.resource, key);
      if (ext) {
        if (v === null) continue;
        if (!isObject(v)) throw invalidValue(`${ext.id} must be an object`);
        for (const [k2, v2] of Object.entries(v)) this.applyPath(op, `${ext.id}:${k2}`, v2, true);
        continue;
      }
      if (!resolveAttrPath(this.resource, key)) {
        // Attributes of schemas we do not know (a client's own extension) are not ours to keep.
        if (lower.startsWith('urn:')) continue;
        throw invalidPath(`Unknown attribute "${key}"`);
      }
      this.applyPath(op, key, v, true);
    }
  }

  /** `lenient`: inside a path-less value, where read-only attributes are skipped, not refused. */
  private applyPath(op: PatchOpName, rawPath: string, value: unknown, lenient: boolean) {
    const path = parsePatchPath(rawPath);
    const ext = findExtension(this.resource, path.attr);
    if (ext && !path.filter && !path.sub) {
      if (op === 'remove') {
        delete this.doc[ext.id];
        return;
      }
      if (!isObject(value)) throw invalidValue(`${ext.id} must be an object`);
      for (const [k, v] of Object.entries(value)) this.applyPath(op, `${ext.id}:${k}`, v, lenient);
      return;
    }
    const resolved = resolveAttrPath(this.resource, path.attr);
    if (!resolved) throw invalidPath(`Unknown attribute "${path.attr}"`);
    const target: Target = { ...resolved, filter: path.filter };
    if (path.sub) {
      if (resolved.sub) throw invalidPath(`Invalid path "${rawPath}"`);
      target.sub = findAttr(resolved.attr.subAttributes, path.sub);
      if (!target.sub)
        throw invalidPath(`Unknown sub-attribute "${path.sub}" of ${resolved.attr.name}`);
    }
    if (path.filter && (resolved.sub || !resolved.attr.multiValued)) {
      throw invalidPath(`"${resolved.attr.name}" is not multi-valued: it takes no value filter`);
    }
    if (resolved.attr.mutability === 'readOnly' || target.sub?.mutability === 'readOnly') {
      if (lenient) return;
      assertWritable(target.sub ?? resolved.attr, rawPath);
    }
    const container =
      resolved.schema === this.resource.core
        ? this.doc
        : ((this.doc[resolved.schema.id] ??= {}) as ScimDoc);
    if (this.hook?.(target.attr, op, { filter: target.filter, sub: target.sub }, value)) return;
    if (target.attr.multiValued) this.applyMulti(container, op, target, value);
    else this.applySingle(container, op, target, value);
  }

  private applySingle(container: ScimDoc, op: PatchOpName, t: Target, value: unknown) {
    const { attr, sub } = t;
    if (attr.type !== 'complex') {
      const v = op === 'remove' ? undefined : coerceAttr(attr, value, attr.name);
      if (v === undefined && attr.required) throw invalidValue(`${attr.name} is required`);
      if (v === undefined) delete container[attr.name];
      else container[attr.name] = v;
      return;
    }
    const current = isObject(container[attr.name]) ? { ...(container[attr.name] as ScimDoc) } : {};
    let next: ScimDoc | undefined;
    if (sub) {
      const v = op === 'remove' ? undefined : coerceSimple(sub, value, `${attr.name}.${sub.name}`);
      if (v === undefined) delete current[sub.name];
      else current[sub.name] = v;
      next = current;
    } else if (op === 'remove') {
      next = undefined;
    } else {
      const v = coerceAttr(attr, value, attr.name) as ScimDoc | undefined;
      // A complex value replaces the sub-attributes it names; a bare id (manager) replaces all.
      next = v === undefined ? undefined : isObject(value) ? { ...current, ...v } : v;
    }
    if (next && Object.keys(next).length) container[attr.name] = next;
    else delete container[attr.name];
  }

  private applyMulti(container: ScimDoc, op: PatchOpName, t: Target, value: unknown) {
    const { attr, sub, filter } = t;
    let list: unknown[] = Array.isArray(container[attr.name])
      ? (container[attr.name] as unknown[]).map((e) => (isObject(e) ? { ...e } : e))
      : [];
    const touched: unknown[] = [];
    if (!filter) {
      if (sub) {
        if (op === 'remove') {
          for (const el of list) if (isObject(el)) delete el[sub.name];
        } else {
          const v = coerceSimple(sub, value, `${attr.name}.${sub.name}`);
          if (!list.length) list.push({});
          for (const el of list) if (isObject(el)) el[sub.name] = v;
          touched.push(...list);
        }
        list = list.filter((e) => !isObject(e) || Object.keys(e).length > 0);
      } else if (op === 'add') {
        for (const v of (coerceAttr(attr, value, attr.name) as unknown[] | undefined) ?? []) {
          const i = list.findIndex((e) => sameElement(e, v));
          if (i >= 0) list[i] = isObject(v) ? { ...(list[i] as ScimDoc), ...v } : v;
          else list.push(v);
          touched.push(i >= 0 ? list[i] : v);
        }
      } else if (op === 'replace') {
        list = (coerceAttr(attr, value, attr.name) as unknown[] | undefined) ?? [];
        touched.push(...list);
      } else if (value !== undefined && value !== null) {
        const remove = (coerceAttr(attr, value, attr.name) as unknown[] | undefined) ?? [];
        list = list.filter((e) => !remove.some((r) => sameElement(e, r)));
      } else {
        list = [];
      }
    } else {
      const matches = list.filter((e) => matchesElement(filter, e));
      if (op === 'remove') {
        if (sub) {
          for (const e of matches) if (isObject(e)) delete e[sub.name];
          // An element without its value is no element (remove emails[type eq "work"].value).
          if (sub.name === 'value') list = list.filter((e) => !matches.includes(e));
        } else {
          list = list.filter((e) => !matches.includes(e));
        }
      } else if (matches.length) {
        for (const e of matches) {
          const i = list.indexOf(e);
          if (sub) {
            const v = coerceSimple(sub, value, `${attr.name}.${sub.name}`);
            const next = { ...(e as ScimDoc) };
            if (v === undefined) delete next[sub.name];
            else next[sub.name] = v;
            list[i] = next;
          } else {
            const v = coerceElement(attr, value, attr.name);
            list[i] = isObject(v) ? { ...(e as ScimDoc), ...v } : v;
          }
          touched.push(list[i]);
        }
      } else {
        // Entra adds `emails[type eq "work"].value` when no work email exists yet.
        // A whole-element replace with no match has no target (RFC 7644 §3.5.2.3).
        const template = op === 'add' || sub ? equalityTemplate(filter) : undefined;
        if (!template) throw noTarget(`No ${attr.name} value matches the filter`);
        const raw = sub
          ? { ...template, [sub.name]: value }
          : { ...template, ...(isObject(value) ? value : { value }) };
        const v = coerceElement(attr, raw, attr.name);
        if (v !== undefined) {
          list.push(v);
          touched.push(v);
        }
      }
    }
    const primary = touched.filter((e) => isObject(e) && e.primary === true).pop();
    if (primary) for (const e of list) if (e !== primary && isObject(e)) delete e.primary;
    if (list.length) container[attr.name] = list;
    else delete container[attr.name];
  }
}

/** Two elements are the same value: equal `value` (case-insensitive), and equal `type` when both have one. */
function sameElement(a: unknown, b: unknown): boolean {
  if (!isObject(a) || !isObject(b)) return a === b;
  const av = a.value;
  const bv = b.value;
  if (av === undefined || bv === undefined) return false;
  if (String(av).toLowerCase() !== String(bv).toLowerCase()) return false;
  return (
    a.type === undefined ||
    b.type === undefined ||
    String(a.type).toLowerCase() === String(b.type).toLowerCase()
  );
}

export function applyPatch(
  resource: ResourceSchemas,
  doc: ScimDoc,
  ops: PatchOperation[],
  hook?: MultiValuedHook,
): ScimDoc {
  return new PatchEngine(resource, doc, hook).apply(ops);
}
