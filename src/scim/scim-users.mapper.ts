import { isEmail } from 'class-validator';
import { USERNAME_PATTERN } from '../users/dto/user.dto.js';
import { isObject, type ScimDoc } from './scim.document.js';
import type { ScimUserExtras, UserEntity } from '../users/user.entity.js';
import { invalidValue } from './scim.errors.js';
import { SCHEMA_ENTERPRISE, SCHEMA_USER } from './scim.schemas.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';

/**
 * Users between the directory's row and SCIM's document. The directory's columns carry what
 * the rest of the product reads (username, primary email, names, active, roles); the rest of
 * a SCIM user sits in `users.scim`. The directory's rules hold for SCIM writes: the username
 * pattern and length, one email address per user and tenant, locale tags, role limits.
 */

const LOCALE_PATTERN = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;

const NAME_EXTRAS = ['formatted', 'middleName', 'honorificPrefix', 'honorificSuffix'] as const;
const TOP_EXTRAS = [
  'nickName',
  'profileUrl',
  'title',
  'userType',
  'preferredLanguage',
  'timezone',
] as const;
const LIST_EXTRAS = [
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'entitlements',
  'x509Certificates',
] as const;
const ENTERPRISE_EXTRAS = [
  'employeeNumber',
  'costCenter',
  'organization',
  'division',
  'department',
] as const;

/** The columns a SCIM write sets; the password travels apart, to be hashed by the service. */
export interface UserWrite {
  username: string;
  email: string | null;
  is_disabled: boolean;
  locale: string | null;
  roles: string[];
  external_id: string | null;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  scim: ScimUserExtras;
  manager_id: string | null;
  password?: string;
}

const nonEmpty = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The user as a normalised SCIM document (no id, meta or groups). */
export function userDocFromRow(row: UserEntity): ScimDoc {
  const x = row.scim ?? {};
  const doc: ScimDoc = { userName: row.username };
  if (row.external_id !== null) doc.externalId = row.external_id;
  const name: ScimDoc = {};
  if (row.given_name !== null) name.givenName = row.given_name;
  if (row.family_name !== null) name.familyName = row.family_name;
  for (const k of NAME_EXTRAS) if (x.name?.[k] !== undefined) name[k] = x.name[k];
  if (Object.keys(name).length) doc.name = name;
  if (row.display_name !== null) doc.displayName = row.display_name;
  for (const k of TOP_EXTRAS) if (x[k] !== undefined) doc[k] = x[k];
  if (row.locale !== null) doc.locale = row.locale;
  doc.active = !row.is_disabled;
  const emails = effectiveEmails(row);
  if (emails.length) doc.emails = emails;
  for (const k of LIST_EXTRAS)
    if (Array.isArray(x[k]) && x[k].length) doc[k] = structuredClone(x[k]);
  if (row.roles?.length) doc.roles = row.roles.map((value) => ({ value }));
  const ent: ScimDoc = {};
  for (const k of ENTERPRISE_EXTRAS) if (x.enterprise?.[k] !== undefined) ent[k] = x.enterprise[k];
  if (row.manager_id) ent.manager = { value: row.manager_id };
  if (Object.keys(ent).length) doc[SCHEMA_ENTERPRISE] = ent;
  return doc;
}

/** scim.emails with its value-less element filled from the email column (which the management API may change). */
function effectiveEmails(row: UserEntity): Array<Record<string, unknown>> {
  const stored = row.scim?.emails;
  if (!Array.isArray(stored))
    return row.email ? [{ value: row.email, type: 'work', primary: true }] : [];
  const out: Array<Record<string, unknown>> = [];
  let mapped = false;
  for (const e of stored) {
    if (e.value === undefined) {
      mapped = true;
      if (row.email) out.push({ ...e, value: row.email });
    } else {
      out.push({ ...e });
    }
  }
  if (!mapped && row.email) out.unshift({ value: row.email, type: 'work', primary: true });
  return out;
}

function str(doc: ScimDoc, key: string, max: number, what = key): string | null {
  const v = doc[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw invalidValue(`${what} must be a string`);
  if (v.length > max) throw invalidValue(`${what} must be at most ${max} characters`);
  return v;
}

/** Validates a complete document against the directory's rules and answers the columns to store. */
export function userWriteFromDoc(doc: ScimDoc): UserWrite {
  const username = doc.userName;
  if (typeof username !== 'string' || username.length === 0)
    throw invalidValue('userName is required');
  if (username.length > 128) throw invalidValue('userName must be at most 128 characters');
  if (!USERNAME_PATTERN.test(username)) {
    throw invalidValue('userName may contain only letters, digits and _ . @ -');
  }
  const name = isObject(doc.name) ? doc.name : {};
  let locale = str(doc, 'locale', 35);
  if (locale !== null) {
    locale = locale.replace(/_/g, '-');
    if (!LOCALE_PATTERN.test(locale))
      throw invalidValue('locale must be a language tag such as en-US');
  }

  // An element without a value (Entra's null-valued attributes) says nothing: dropped.
  const emails = (
    Array.isArray(doc.emails) ? (doc.emails as Array<Record<string, unknown>>) : []
  ).filter((e) => e.value !== undefined);
  for (const e of emails) {
    if (
      typeof e.value !== 'string' ||
      e.value.length > 254 ||
      !isEmail(e.value, { require_tld: false })
    ) {
      throw invalidValue(`emails: ${JSON.stringify(e.value ?? null)} is not an email address`);
    }
  }
  let primary = emails.findIndex((e) => e.primary === true);
  if (primary < 0) primary = emails.length ? 0 : -1;
  const email = primary >= 0 ? (emails[primary].value as string) : null;

  const roles: string[] = [];
  for (const r of Array.isArray(doc.roles) ? (doc.roles as Array<Record<string, unknown>>) : []) {
    const v = r.value;
    if (typeof v !== 'string' || v.length < 1 || v.length > 64) {
      throw invalidValue('roles: each value must be 1 to 64 characters');
    }
    if (!roles.includes(v)) roles.push(v);
  }
  if (roles.length > 100) throw invalidValue('roles: at most 100');

  const scim: ScimUserExtras = {};
  const nameExtras: Record<string, string> = {};
  for (const k of NAME_EXTRAS) {
    const v = nonEmpty(name[k]);
    if (v !== null) nameExtras[k] = v;
  }
  if (Object.keys(nameExtras).length) scim.name = nameExtras;
  for (const k of TOP_EXTRAS) {
    const v = nonEmpty(doc[k]);
    if (v !== null) scim[k] = v;
  }
  // Kept even when empty, so "no email" set through SCIM is told apart from "never set".
  scim.emails = emails.map((e, i) => {
    const { value: _value, ...rest } = e;
    return i === primary ? rest : { ...e };
  });
  for (const k of LIST_EXTRAS) {
    const v = doc[k];
    if (Array.isArray(v) && v.length) scim[k] = v as Array<Record<string, unknown>>;
  }

  const ent = isObject(doc[SCHEMA_ENTERPRISE]) ? (doc[SCHEMA_ENTERPRISE] as ScimDoc) : {};
  const enterprise: Record<string, string> = {};
  for (const k of ENTERPRISE_EXTRAS) {
    const v = nonEmpty(ent[k]);
    if (v !== null) enterprise[k] = v;
  }
  if (Object.keys(enterprise).length) scim.enterprise = enterprise;
  let manager_id: string | null = null;
  if (isObject(ent.manager)) {
    const v = nonEmpty(ent.manager.value);
    if (v !== null) {
      if (!UUID.test(v)) throw invalidValue(`manager: ${JSON.stringify(v)} is not a user id`);
      manager_id = v.toLowerCase();
    }
  }

  const write: UserWrite = {
    username,
    email,
    is_disabled: doc.active === false,
    locale,
    roles,
    external_id: str(doc, 'externalId', 256),
    display_name: str(doc, 'displayName', 256),
    given_name: str(name, 'givenName', 128, 'name.givenName'),
    family_name: str(name, 'familyName', 128, 'name.familyName'),
    scim,
    manager_id,
  };
  if (typeof doc.password === 'string') write.password = doc.password;
  return write;
}

export interface UserRefs {
  groups: Array<{ id: string; display: string }>;
  managerDisplay?: string | null;
}

/** The full SCIM representation of a user, with meta. */
export function userRepresentation(row: UserEntity, refs: UserRefs, base: string): ScimDoc {
  const doc = userDocFromRow(row);
  const ent = doc[SCHEMA_ENTERPRISE] as ScimDoc | undefined;
  if (ent && isObject(ent.manager) && row.manager_id) {
    ent.manager = {
      value: row.manager_id,
      $ref: `${base}/Users/${row.manager_id}`,
      ...(refs.managerDisplay ? { displayName: refs.managerDisplay } : {}),
    };
  }
  const out: ScimDoc = {
    schemas: ent ? [SCHEMA_USER, SCHEMA_ENTERPRISE] : [SCHEMA_USER],
    id: row.user_id,
    ...doc,
  };
  if (refs.groups.length) {
    out.groups = refs.groups.map((g) => ({
      value: g.id,
      $ref: `${base}/Groups/${g.id}`,
      display: g.display,
      type: 'direct',
    }));
  }
  if (ent) {
    delete out[SCHEMA_ENTERPRISE];
    out[SCHEMA_ENTERPRISE] = ent;
  }
  out.meta = {
    resourceType: 'User',
    created: row.created_at.toISOString(),
    lastModified: row.updated_at.toISOString(),
    location: `${base}/Users/${row.user_id}`,
    version: etagOf(row.version),
  };
  return out;
}

export function etagOf(version: number): string {
  return `W/"${version}"`;
}
