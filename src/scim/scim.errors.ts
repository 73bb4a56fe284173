import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { ProblemException } from '../common/problem.js';
import { SCHEMA_ERROR } from './scim.schemas.js';
import { isDomainError } from '../common/domain-error.js';
import { toProblemException } from '../common/problem.filter.js';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** An error in the SCIM Error schema (RFC 7644 §3.12); `status` travels as a string. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    /** Response headers the error carries (Retry-After of a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }

  toJSON() {
    return {
      schemas: [SCHEMA_ERROR],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}

export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue');
export const invalidSyntax = (detail: string) => new ScimError(400, detail, 'invalidSyntax');
export const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter');
export const invalidPath = (detail: string) => new ScimError(400, detail, 'invalidPath');
export const noTarget = (detail: string) => new ScimError(400, detail, 'noTarget');
export const mutability = (detail: string) => new ScimError(400, detail, 'mutability');
export const uniqueness = (detail: string) => new ScimError(409, detail, 'uniqueness');
export const scimNotFound = (what: string, id: string) =>
  new ScimError(404, `${what} ${JSON.stringify(id)} not found`);

/** Unique constraints of the directory tables, named as SCIM attributes. */
const UNIQUE_ATTRS: Record<string, string> = {
  users_tenant_username_key: 'userName',
  users_tenant_email_key: 'emails',
  users_tenant_external_id_key: 'externalId',
  users_pkey: 'id',
  groups_tenant_name_key: 'displayName',
  groups_tenant_external_id_key: 'externalId',
  groups_pkey: 'id',
};

export function uniqueAttrOfConstraint(constraint: string | undefined): string {
  return (constraint && UNIQUE_ATTRS[constraint]) ?? 'id';
}

/** Anything thrown on a SCIM route, as a ScimError; unknown errors become a bare 500. */
export function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (isDomainError(error)) error = toProblemException(error);
  if (error instanceof ProblemException) {
    if (error.status === 409) return uniqueness(error.detail ?? error.title);
    const scimType = error.status === 400 ? 'invalidValue' : undefined;
    const fields = error.errors?.map((e) => `${e.field} ${e.message}`).join('; ');
    return new ScimError(
      error.status,
      fields || error.detail || error.title,
      scimType,
      error.headers,
    );
  }
  if (error instanceof QueryFailedError) {
    const driver = error.driverError as { code?: string; constraint?: string } | undefined;
    if (driver?.code === '23505') {
      return uniqueness(`${uniqueAttrOfConstraint(driver.constraint)} is already in use`);
    }
    if (driver?.code === '23503') return invalidValue('A referenced resource does not exist');
    if (driver?.code === '22P02' || driver?.code === '22001' || driver?.code === '22021') {
      return invalidValue('A value has an invalid format');
    }
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const detail =
      typeof response === 'object' && response && 'message' in response
        ? String((response as { message: unknown }).message)
        : error.message;
    return new ScimError(status, detail);
  }
  // Fastify's own errors: bad JSON, unsupported content type, body too large.
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = (error as { code?: string }).code;
    if (statusCode === 413) {
      return new ScimError(413, 'The request body is larger than the server accepts (1 MiB)');
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return new ScimError(415, 'Send the body as application/scim+json or application/json');
    }
    if (code?.startsWith('FST_ERR_CTP') || (error as Error).name === 'SyntaxError') {
      return invalidSyntax('The request body is not valid JSON');
    }
    return new ScimError(statusCode, (error as Error).message);
  }
  return new ScimError(500, 'An unexpected error occurred');
}

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function sendScimError(reply: FastifyReply, error: ScimError) {
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="scim"');
  for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
  void reply
    .status(error.status)
    .header('content-type', SCIM_CONTENT_TYPE)
    .send(JSON.stringify(error.toJSON()));
}

/**
 * SCIM clients parse SCIM errors, not problem+json: on SCIM routes every error, including the
 * guard's 401/403/404 and body-parser failures, is rendered in the SCIM Error schema.
 */
@Catch()
export class ScimExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Scim');

  catch(exception: unknown, host: ArgumentsHost) {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const error = toScimError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: exception, reqId: request.id }, 'unhandled SCIM error');
    }
    sendScimError(reply, error);
  }
}

/** Paths of the SCIM service provider: /<tenant_id>/scim/v2/... */
export const SCIM_PATH = /^\/[^/?]+\/scim\/v2(?:[/?]|$)/;

/**
 * Errors raised before a route runs (body parsing, body size, content type) reach the
 * platform's problem+json handler, not the controller's filter; on SCIM paths their answer is
 * rewritten into the SCIM Error schema so a SCIM client always gets the shape it parses.
 */
export function problemPayloadAsScim(status: number, payload: string): string {
  let detail = 'The request failed';
  try {
    const problem = JSON.parse(payload) as { detail?: unknown; title?: unknown };
    detail = String(problem.detail ?? problem.title ?? detail);
  } catch {
    // keep the generic detail
  }
  if (status === 400 && /json/i.test(detail)) detail = 'The request body is not valid JSON';
  const scimType: ScimType | undefined = status === 400 ? 'invalidSyntax' : undefined;
  return JSON.stringify(new ScimError(status, detail, scimType).toJSON());
}
