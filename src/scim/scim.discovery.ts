import { scimNotFound } from './scim.errors.js';
import {
  type AttrDef,
  ENTERPRISE_SCHEMA,
  GROUP_SCHEMA,
  LIMITS,
  SCHEMA_ENTERPRISE,
  SCHEMA_GROUP,
  SCHEMA_LIST,
  SCHEMA_RESOURCE_TYPE,
  SCHEMA_SCHEMA,
  SCHEMA_SPC,
  SCHEMA_USER,
  type SchemaDef,
  USER_SCHEMA,
} from './scim.schemas.js';

/** Discovery documents (RFC 7644 §4), built from the same definitions that validate requests. */

export function serviceProviderConfig(base: string) {
  return {
    schemas: [SCHEMA_SPC],
    patch: { supported: true },
    bulk: {
      supported: true,
      maxOperations: LIMITS.bulkMaxOperations,
      maxPayloadSize: LIMITS.bulkMaxPayloadSize,
    },
    filter: { supported: true, maxResults: LIMITS.filterMaxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer API key',
        description: 'A tenant API key holding the scim scope: Authorization: Bearer <key>',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${base}/ServiceProviderConfig`,
    },
  };
}

const RESOURCE_TYPES = [
  {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: SCHEMA_USER,
    schemaExtensions: [{ schema: SCHEMA_ENTERPRISE, required: false }],
  },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: SCHEMA_GROUP },
];

function resourceType(base: string, rt: (typeof RESOURCE_TYPES)[number]) {
  return {
    schemas: [SCHEMA_RESOURCE_TYPE],
    ...rt,
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${rt.id}` },
  };
}

export function resourceTypes(base: string) {
  const list = RESOURCE_TYPES.map((rt) => resourceType(base, rt));
  return {
    schemas: [SCHEMA_LIST],
    totalResults: list.length,
    startIndex: 1,
    itemsPerPage: list.length,
    Resources: list,
  };
}

export function resourceTypeById(base: string, id: string) {
  const rt = RESOURCE_TYPES.find((r) => r.id.toLowerCase() === id.toLowerCase());
  if (!rt) throw scimNotFound('ResourceType', id);
  return resourceType(base, rt);
}

function renderAttr(a: AttrDef): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description ?? a.name,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? 'readWrite',
    returned: a.returned ?? 'default',
    uniqueness: a.uniqueness ?? 'none',
    ...(a.canonicalValues?.length ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(renderAttr) } : {}),
  };
}

const SCHEMAS = [USER_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA];

function renderSchema(base: string, s: SchemaDef) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(renderAttr),
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  };
}

export function schemas(base: string) {
  const list = SCHEMAS.map((s) => renderSchema(base, s));
  return {
    schemas: [SCHEMA_LIST],
    totalResults: list.length,
    startIndex: 1,
    itemsPerPage: list.length,
    Resources: list,
  };
}

export function schemaById(base: string, id: string) {
  const s = SCHEMAS.find((x) => x.id.toLowerCase() === id.toLowerCase());
  if (!s) throw scimNotFound('Schema', id);
  return renderSchema(base, s);
}
