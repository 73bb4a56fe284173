import { applyDecorators } from '@nestjs/common';
import { IsOptional } from 'class-validator';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/**
 * How an operation's errors are documented (decision 0025). Every API operation carries
 * `@ApiOperation({ summary })` and lists the 4xx problems it can answer with `@ApiProblems`;
 * `@Authenticated()` adds 401 and 403 itself. src/openapi-document.spec.ts fails when an
 * operation lacks a summary, tags, a 2xx, a 4xx or (public ones) an explicit `security: []`.
 */

class FieldErrorDto {
  @ApiProperty({ example: 'email' }) field: string;
  @ApiProperty({ example: 'email must be an email' }) message: string;
}

/** RFC 9457 problem details, as src/common/problem.filter.ts renders every API error. */
export class ProblemDto {
  @ApiProperty({
    example: 'urn:idp:problem:not-found',
    description: 'stable URI of the problem kind: switch on this',
  })
  type: string;

  @ApiProperty({ example: 'Not found' }) title: string;
  @ApiProperty({ example: 404 }) status: number;
  @ApiPropertyOptional({ example: 'User not found' }) detail?: string;
  @ApiPropertyOptional({ example: '/api/v1/tenants/acme/users/0b8e0c2e' }) instance?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'validation failures, per field' })
  errors?: FieldErrorDto[];
}

/** RFC 7644 §3.12 error, as the SCIM endpoints answer every error. */
export class ScimErrorDto {
  @ApiProperty({ example: ['urn:ietf:params:scim:api:messages:2.0:Error'] }) schemas: string[];
  @ApiProperty({ example: '404', description: 'the HTTP status, as a string' }) status: string;
  @ApiPropertyOptional({ example: 'invalidFilter' }) scimType?: string;
  @ApiPropertyOptional({ example: 'Resource 0b8e0c2e not found' }) detail?: string;
}

/** RFC 6749 §5.2 / RFC 7591 §3.2.2 error, as the dynamic registration endpoints answer. */
export class OAuthErrorDto {
  @ApiProperty({ example: 'invalid_client_metadata' }) error: string;
  @ApiPropertyOptional({ example: 'redirect_uris: must be https' }) error_description?: string;
}

/** What each status means across the API; an operation may say more. */
export const PROBLEM_MEANING: Record<number, string> = {
  400: 'malformed or invalid request (`errors` names the fields)',
  401: 'missing, unknown or inactive credential',
  403: 'the credential may not do this',
  404: 'unknown tenant or object (another tenant’s objects are unknown too)',
  409: 'conflicts with an existing object',
  410: 'the link or code has expired or was used',
  412: 'If-Match does not match the current version',
  413: 'the request is too large',
  429: 'too many requests; retry after `Retry-After` seconds',
  503: 'a dependency is unavailable; retry after `Retry-After` seconds',
};

type ProblemEntry = number | [status: number, description: string];

function entries(list: ProblemEntry[]) {
  return list.map((e) =>
    Array.isArray(e) ? e : ([e, PROBLEM_MEANING[e] ?? 'problem'] as [number, string]),
  );
}

/** Documents RFC 9457 `application/problem+json` answers: `@ApiProblems(400, 404, [409, 'why'])`. */
export function ApiProblems(...list: ProblemEntry[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...entries(list).map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}

/** OAuth-style errors (`{error, error_description}` as application/json), where a standard says so. */
export function ApiOAuthErrors(...list: ProblemEntry[]) {
  return applyDecorators(
    ApiExtraModels(OAuthErrorDto),
    ...entries(list).map(([status, description]) =>
      ApiResponse({
        status,
        description,
        content: { 'application/json': { schema: { $ref: getSchemaPath(OAuthErrorDto) } } },
      }),
    ),
  );
}

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/**
 * SCIM operations: the 2xx answer as `application/scim+json` and errors (401 and 403 included:
 * the SCIM filter renders the guard's refusals too) in the SCIM Error schema. Put it above
 * `@Authenticated` so its 401/403 replace the problem+json ones.
 */
export function ApiScim(ok: { status: number; description: string }, ...errors: ProblemEntry[]) {
  const scimError = { [SCIM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ScimErrorDto) } } };
  return applyDecorators(
    ApiExtraModels(ScimErrorDto),
    ApiResponse({
      status: ok.status,
      description: ok.description,
      ...(ok.status === 204
        ? {}
        : { content: { [SCIM_CONTENT_TYPE]: { schema: { type: 'object' } } } }),
    }),
    // 401/403/429: Authenticated's descriptions stay; only the media type changes.
    ...[401, 403, 429].map((status) => ApiResponse({ status, content: scimError })),
    ...entries(errors).map(([status, description]) =>
      ApiResponse({ status, description, content: scimError }),
    ),
  );
}

/**
 * A field clients send back from a read (ids, times) that a write ignores: accepted so a whole
 * object can be PUT back, documented as read-only with its real type.
 */
export function IgnoredReadOnly(
  type: typeof String | typeof Boolean | typeof Number = String,
  format?: string,
) {
  return applyDecorators(
    ApiPropertyOptional({
      type,
      ...(format ? { format } : {}),
      readOnly: true,
      description: 'read-only, ignored',
    }),
    IsOptional(),
  );
}
