/**
 * The SCIM schemas this service provider speaks, as data: the same definitions serve the
 * /Schemas discovery endpoint and drive validation, type coercion and case-insensitive
 * attribute resolution, so what is advertised is exactly what is enforced.
 */

export const SCHEMA_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCHEMA_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCHEMA_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCHEMA_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCHEMA_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCHEMA_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCHEMA_BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const SCHEMA_BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
export const SCHEMA_SPC = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const SCHEMA_RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export const LIMITS = {
  bulkMaxOperations: 1000,
  /** Equal to the HTTP body limit of the server (src/app.ts). */
  bulkMaxPayloadSize: 1024 * 1024,
  filterMaxResults: 1000,
  defaultCount: 100,
};

export type AttrType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: Mutability;
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttrDef[];
  description?: string;
  maxLength?: number;
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

const str = (name: string, extra: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type: 'string',
  maxLength: 1024,
  ...extra,
});
const bool = (name: string, extra: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type: 'boolean',
  ...extra,
});

/** value/display/type/primary: the shape of most multi-valued attributes. */
function multi(
  name: string,
  types: string[],
  extra: AttrDef[] = [],
  valueType: AttrType = 'string',
): AttrDef {
  return {
    name,
    type: 'complex',
    multiValued: true,
    subAttributes: [
      { name: 'value', type: valueType, maxLength: 1024 },
      str('display'),
      str('type', { canonicalValues: types }),
      bool('primary'),
      ...extra,
    ],
  };
}

const ID: AttrDef = {
  name: 'id',
  type: 'string',
  caseExact: true,
  mutability: 'readOnly',
  returned: 'always',
  uniqueness: 'server',
};
const EXTERNAL_ID: AttrDef = {
  name: 'externalId',
  type: 'string',
  caseExact: true,
  maxLength: 256,
};
const META: AttrDef = {
  name: 'meta',
  type: 'complex',
  mutability: 'readOnly',
  subAttributes: [
    str('resourceType', { caseExact: true, mutability: 'readOnly' }),
    { name: 'created', type: 'dateTime', mutability: 'readOnly' },
    { name: 'lastModified', type: 'dateTime', mutability: 'readOnly' },
    { name: 'location', type: 'reference', mutability: 'readOnly' },
    str('version', { caseExact: true, mutability: 'readOnly' }),
  ],
};

export const USER_SCHEMA: SchemaDef = {
  id: SCHEMA_USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    ID,
    EXTERNAL_ID,
    str('userName', {
      required: true,
      uniqueness: 'server',
      maxLength: 128,
      description: 'Unique per tenant, case-insensitively; letters, digits and _ . @ -',
    }),
    {
      name: 'name',
      type: 'complex',
      subAttributes: [
        str('formatted'),
        str('familyName', { maxLength: 128 }),
        str('givenName', { maxLength: 128 }),
        str('middleName'),
        str('honorificPrefix'),
        str('honorificSuffix'),
      ],
    },
    str('displayName', { maxLength: 256 }),
    str('nickName'),
    { name: 'profileUrl', type: 'reference', referenceTypes: ['external'], maxLength: 2048 },
    str('title'),
    str('userType'),
    str('preferredLanguage'),
    str('locale', { maxLength: 35 }),
    str('timezone'),
    bool('active'),
    {
      name: 'password',
      type: 'string',
      mutability: 'writeOnly',
      returned: 'never',
      maxLength: 1024,
    },
    multi('emails', ['work', 'home', 'other']),
    multi('phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', ['photo', 'thumbnail'], [], 'reference'),
    {
      name: 'addresses',
      type: 'complex',
      multiValued: true,
      subAttributes: [
        str('formatted'),
        str('streetAddress'),
        str('locality'),
        str('region'),
        str('postalCode'),
        str('country'),
        str('type', { canonicalValues: ['work', 'home', 'other'] }),
        bool('primary'),
      ],
    },
    {
      name: 'groups',
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', { mutability: 'readOnly' }),
        { name: '$ref', type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly' },
        str('display', { mutability: 'readOnly' }),
        str('type', { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
    },
    multi('entitlements', []),
    {
      name: 'roles',
      type: 'complex',
      multiValued: true,
      subAttributes: [
        str('value', { maxLength: 64 }),
        str('display'),
        str('type'),
        bool('primary'),
      ],
    },
    multi('x509Certificates', []),
    META,
  ],
};

export const ENTERPRISE_SCHEMA: SchemaDef = {
  id: SCHEMA_ENTERPRISE,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber'),
    str('costCenter'),
    str('organization'),
    str('division'),
    str('department'),
    {
      name: 'manager',
      type: 'complex',
      subAttributes: [
        str('value', { description: 'the id of the manager, a User of the same tenant' }),
        { name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'readOnly' },
        str('displayName', { mutability: 'readOnly' }),
      ],
    },
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCHEMA_GROUP,
  name: 'Group',
  description: 'Group',
  attributes: [
    ID,
    EXTERNAL_ID,
    str('displayName', {
      required: true,
      uniqueness: 'server',
      maxLength: 256,
      description: 'Unique per tenant, case-insensitively',
    }),
    {
      name: 'members',
      type: 'complex',
      multiValued: true,
      subAttributes: [
        str('value', { caseExact: true, mutability: 'immutable' }),
        {
          name: '$ref',
          type: 'reference',
          referenceTypes: ['User'],
          mutability: 'immutable',
        },
        str('display', { mutability: 'readOnly' }),
        str('type', { canonicalValues: ['User'], mutability: 'immutable' }),
      ],
    },
    META,
  ],
};

export interface ResourceSchemas {
  name: 'User' | 'Group';
  core: SchemaDef;
  extensions: SchemaDef[];
}

export const USER_RESOURCE: ResourceSchemas = {
  name: 'User',
  core: USER_SCHEMA,
  extensions: [ENTERPRISE_SCHEMA],
};
export const GROUP_RESOURCE: ResourceSchemas = {
  name: 'Group',
  core: GROUP_SCHEMA,
  extensions: [],
};

export function findAttr(list: AttrDef[] | undefined, name: string): AttrDef | undefined {
  if (!list) return undefined;
  const lower = name.toLowerCase();
  return list.find((a) => a.name.toLowerCase() === lower);
}

export function findExtension(resource: ResourceSchemas, urn: string): SchemaDef | undefined {
  const lower = urn.toLowerCase();
  return resource.extensions.find((s) => s.id.toLowerCase() === lower);
}

/** A resolved attribute path: schema, attribute and optional sub-attribute, canonically named. */
export interface ResolvedAttr {
  schema: SchemaDef;
  attr: AttrDef;
  sub?: AttrDef;
}

/**
 * Resolves `attr`, `attr.sub`, `urn:...:attr` or `urn:...:attr.sub` case-insensitively.
 * Answers undefined for an unknown attribute.
 */
export function resolveAttrPath(resource: ResourceSchemas, path: string): ResolvedAttr | undefined {
  let schema = resource.core;
  let rest = path;
  const lower = path.toLowerCase();
  for (const s of [resource.core, ...resource.extensions]) {
    const prefix = s.id.toLowerCase() + ':';
    if (lower.startsWith(prefix)) {
      schema = s;
      rest = path.slice(prefix.length);
      break;
    }
  }
  const [attrName, subName, ...more] = rest.split('.');
  if (more.length) return undefined;
  const attr = findAttr(schema.attributes, attrName);
  if (!attr) return undefined;
  if (subName === undefined) return { schema, attr };
  const sub = findAttr(attr.subAttributes, subName);
  if (!sub) return undefined;
  return { schema, attr, sub };
}

/** Canonical name of a resolved path (`name.givenName`, `urn:…:User:manager.value`). */
export function canonicalPath(r: ResolvedAttr, resource: ResourceSchemas): string {
  const base = r.schema === resource.core ? r.attr.name : `${r.schema.id}:${r.attr.name}`;
  return r.sub ? `${base}.${r.sub.name}` : base;
}
