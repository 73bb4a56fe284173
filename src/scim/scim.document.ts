import { invalidSyntax, invalidValue, mutability } from './scim.errors.js';
import {
  type AttrDef,
  findAttr,
  findExtension,
  type ResourceSchemas,
  resolveAttrPath,
  type SchemaDef,
} from './scim.schemas.js';

/**
 * A resource as plain JSON with canonical attribute names: core attributes at the top,
 * each extension under its URN. Inputs from clients are normalised into this shape first
 * (case-insensitive names, "True"/"False" booleans, single values where lists are expected),
 * so every later step can rely on it.
 */
export type ScimDoc = Record<string, unknown>;

/** Top-level keys a client may send that are not attributes to store. */
const IGNORED_KEYS = new Set(['schemas', 'id', 'meta']);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Coerces one simple value to an attribute's type; null and undefined mean "unassigned". */
export function coerceSimple(def: AttrDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // Entra's default mode sends booleans as "True" / "False".
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
        return value.trim().toLowerCase() === 'true';
      }
      throw invalidValue(`${where} must be a boolean`);
    case 'string':
    case 'reference':
    case 'dateTime': {
      if (typeof value === 'number' && def.type === 'string') value = String(value);
      if (typeof value !== 'string') throw invalidValue(`${where} must be a string`);
      if (def.maxLength && value.length > def.maxLength) {
        throw invalidValue(`${where} must be at most ${def.maxLength} characters`);
      }
      return value;
    }
    default:
      throw invalidValue(`${where} has an unsupported type`);
  }
}

/** A complex value's sub-attributes, canonically named; unknown sub-attributes are dropped. */
function coerceComplex(
  def: AttrDef,
  value: unknown,
  where: string,
): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) {
    // Entra sends the manager as a bare id; the same shortcut for any complex attribute with `value`.
    if (
      (typeof value === 'string' || typeof value === 'number') &&
      findAttr(def.subAttributes, 'value')
    ) {
      return value === '' ? undefined : { value: String(value) };
    }
    throw invalidValue(`${where} must be an object`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = findAttr(def.subAttributes, k);
    if (!sub || sub.mutability === 'readOnly') continue;
    const coerced = coerceSimple(sub, v, `${where}.${sub.name}`);
    if (coerced !== undefined) out[sub.name] = coerced;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Normalises a value for `def` (whole attribute: list for multi-valued, object for complex). */
export function coerceAttr(def: AttrDef, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    for (const [i, item] of list.entries()) {
      const v =
        def.type === 'complex'
          ? coerceComplex(def, item, `${where}[${i}]`)
          : coerceSimple(def, item, `${where}[${i}]`);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  return def.type === 'complex'
    ? coerceComplex(def, value, where)
    : coerceSimple(def, value, where);
}

/** Coerces one element of a multi-valued attribute. */
export function coerceElement(def: AttrDef, value: unknown, where: string): unknown {
  return def.type === 'complex'
    ? coerceComplex(def, value, where)
    : coerceSimple(def, value, where);
}

function assignAttr(target: ScimDoc, def: AttrDef, value: unknown, where: string) {
  if (def.mutability === 'readOnly') return;
  const v = coerceAttr(def, value, where);
  if (v === undefined) delete target[def.name];
  else target[def.name] = v;
}

/**
 * A full resource from a POST or PUT body. Read-only attributes (id, meta, groups) are ignored
 * as RFC 7643 §2.2 says; unknown core attributes are refused; attributes of extensions we do
 * not know (other URNs) are ignored, since clients send their own schemas alongside ours.
 */
export function normalizeResource(resource: ResourceSchemas, body: unknown): ScimDoc {
  if (!isObject(body)) throw invalidSyntax('The body must be a JSON object');
  checkSchemas(resource, body.schemas);
  const doc: ScimDoc = {};
  for (const [key, value] of Object.entries(body)) {
    if (IGNORED_KEYS.has(key.toLowerCase())) continue;
    const ext = findExtension(resource, key);
    if (ext) {
      if (value === null) continue;
      if (!isObject(value)) throw invalidValue(`${ext.id} must be an object`);
      doc[ext.id] = normalizeExtension(ext, value);
      continue;
    }
    if (key.toLowerCase().startsWith('urn:')) {
      const resolved = resolveAttrPath(resource, key);
      if (!resolved || resolved.sub) continue;
      const target =
        resolved.schema === resource.core ? doc : ((doc[resolved.schema.id] ??= {}) as ScimDoc);
      assignAttr(target, resolved.attr, value, key);
      continue;
    }
    const def = findAttr(resource.core.attributes, key);
    if (!def) throw invalidValue(`Unknown attribute "${key}" for a ${resource.name}`);
    assignAttr(doc, def, value, def.name);
  }
  return doc;
}

function normalizeExtension(schema: SchemaDef, value: Record<string, unknown>): ScimDoc {
  const out: ScimDoc = {};
  for (const [k, v] of Object.entries(value)) {
    const def = findAttr(schema.attributes, k);
    if (!def) throw invalidValue(`Unknown attribute "${k}" of ${schema.id}`);
    assignAttr(out, def, v, `${schema.id}:${def.name}`);
  }
  return out;
}

/** `schemas` must be a list of strings naming the resource's core schema (others are tolerated). */
export function checkSchemas(resource: ResourceSchemas, schemas: unknown) {
  if (schemas === undefined) return;
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string')) {
    throw invalidSyntax('"schemas" must be a list of schema URNs');
  }
  if (!schemas.some((s: string) => s.toLowerCase() === resource.core.id.toLowerCase())) {
    throw invalidSyntax(`"schemas" must include ${resource.core.id}`);
  }
}

export function requireMessageSchema(body: unknown, urn: string): Record<string, unknown> {
  if (!isObject(body)) throw invalidSyntax('The body must be a JSON object');
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())
  ) {
    throw invalidSyntax(`"schemas" must be ["${urn}"]`);
  }
  return body;
}

export function assertWritable(def: AttrDef, path: string) {
  if (def.mutability === 'readOnly') throw mutability(`${path} is read-only`);
}
