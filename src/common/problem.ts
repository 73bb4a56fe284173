import { HttpStatus } from '@nestjs/common';
import { DomainError, type DomainErrorKind, type FieldError } from './domain-error.js';

export type { FieldError } from './domain-error.js';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable problem type URIs: clients switch on `type`, humans read `title`/`detail`. */
export const problemType = (code: string) => `urn:idp:problem:${code}`;

/** The kind of domain error each status stands for, and the status each kind is answered with. */
const KIND_OF_STATUS: Record<number, DomainErrorKind> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  412: 'precondition-failed',
  413: 'too-large',
  429: 'too-many',
  503: 'unavailable',
};
export const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
  'too-large': 413,
  'too-many': 429,
  unavailable: 503,
};

/**
 * An error as the HTTP API answers it: `code` becomes the problem type; the filter renders it
 * as RFC 9457 problem+json. It is also a DomainError (kind from the status), so pages and
 * services handle both alike while services move to throwing plain DomainErrors.
 */
export class ProblemException extends DomainError {
  constructor(
    readonly status: number,
    code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(KIND_OF_STATUS[status] ?? 'invalid', code, detail ?? title, { fields: errors, title });
  }

  toProblem(instance?: string): ProblemDetails {
    const p: ProblemDetails = {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
    };
    if (this.detail) p.detail = this.detail;
    if (instance) p.instance = instance;
    if (this.errors) p.errors = this.errors;
    return p;
  }
}

// The domain's usual refusals: DomainErrors (no HTTP), rendered by the API filter and pages.
export const notFound = (what: string, detail?: string) =>
  new DomainError('not-found', 'not-found', detail ?? `${what} not found`, {
    title: `${what} not found`,
  });

export const conflict = (field: string, detail: string) =>
  new DomainError('conflict', 'conflict', detail, {
    title: 'Conflict',
    fields: [{ field, message: detail }],
  });

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new DomainError('invalid', errors ? 'validation-error' : 'bad-request', detail, {
    title: errors ? 'Validation failed' : 'Bad request',
    fields: errors,
  });

export const forbidden = (detail: string) =>
  new DomainError('forbidden', 'forbidden', detail, { title: 'Forbidden' });

export const unauthorized = (detail: string) =>
  new ProblemException(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Unauthorized', detail, undefined, {
    'www-authenticate': 'Bearer realm="idp"',
  });
