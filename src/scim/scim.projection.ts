import { isObject, type ScimDoc } from './scim.document.js';
import { invalidValue } from './scim.errors.js';
import {
  findExtension,
  type ResourceSchemas,
  resolveAttrPath,
  type ResolvedAttr,
} from './scim.schemas.js';

/** `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), parsed once per request. */
export interface Projection {
  attributes?: string[];
  excluded?: string[];
}

function pathList(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) {
    return v
      .flatMap((s: string) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  }
  throw invalidValue(`${name} must be a comma-separated list of attribute paths`);
}

export function parseProjection(attributes: unknown, excluded: unknown): Projection {
  return {
    attributes: pathList(attributes, 'attributes'),
    excluded: pathList(excluded, 'excludedAttributes'),
  };
}

/** Would the projected representation contain `attr` (canonical core attribute name)? */
export function wants(p: Projection, resource: ResourceSchemas, attr: string): boolean {
  const matches = (path: string) => {
    if (findExtension(resource, path)) return false;
    const r = resolveAttrPath(resource, path);
    return r !== undefined && r.schema === resource.core && r.attr.name === attr;
  };
  if (p.attributes) return p.attributes.some(matches);
  if (p.excluded) return !p.excluded.some((path) => matches(path) && !path.includes('.'));
  return true;
}

function container(
  doc: ScimDoc,
  r: ResolvedAttr,
  resource: ResourceSchemas,
  create: boolean,
): ScimDoc | undefined {
  if (r.schema === resource.core) return doc;
  const ext = doc[r.schema.id];
  if (isObject(ext)) return ext;
  if (!create) return undefined;
  return (doc[r.schema.id] = {});
}

export function project(rep: ScimDoc, resource: ResourceSchemas, p: Projection): ScimDoc {
  if (p.attributes) {
    const out: ScimDoc = { schemas: rep.schemas, id: rep.id };
    for (const path of p.attributes) {
      const ext = findExtension(resource, path);
      if (ext) {
        if (rep[ext.id] !== undefined) out[ext.id] = rep[ext.id];
        continue;
      }
      const r = resolveAttrPath(resource, path);
      if (!r) continue;
      const src = container(rep, r, resource, false);
      const value = src?.[r.attr.name];
      if (value === undefined) continue;
      const dst = container(out, r, resource, true)!;
      if (!r.sub) {
        dst[r.attr.name] = value;
      } else if (Array.isArray(value)) {
        const prev = Array.isArray(dst[r.attr.name]) ? (dst[r.attr.name] as ScimDoc[]) : [];
        dst[r.attr.name] = value.map((e, i) => ({
          ...prev[i],
          ...(isObject(e) && e[r.sub!.name] !== undefined ? { [r.sub!.name]: e[r.sub!.name] } : {}),
        }));
      } else if (isObject(value) && value[r.sub.name] !== undefined) {
        dst[r.attr.name] = {
          ...(dst[r.attr.name] as ScimDoc | undefined),
          [r.sub.name]: value[r.sub.name],
        };
      }
    }
    return out;
  }
  if (p.excluded) {
    const out = structuredClone(rep);
    for (const path of p.excluded) {
      const ext = findExtension(resource, path);
      if (ext) {
        delete out[ext.id];
        continue;
      }
      const r = resolveAttrPath(resource, path);
      if (!r || r.attr.name === 'id') continue;
      const c = container(out, r, resource, false);
      if (!c) continue;
      if (!r.sub) delete c[r.attr.name];
      else if (Array.isArray(c[r.attr.name])) {
        for (const e of c[r.attr.name] as unknown[]) if (isObject(e)) delete e[r.sub.name];
      } else if (isObject(c[r.attr.name])) delete (c[r.attr.name] as ScimDoc)[r.sub.name];
    }
    return out;
  }
  return rep;
}
