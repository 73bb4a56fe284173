import { HttpStatus } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

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

/**
 * The one error every module throws. `code` becomes the problem type; the filter renders it
 * as RFC 9457 problem+json.
 */
export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
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

export const notFound = (what: string, detail?: string) =>
  new ProblemException(HttpStatus.NOT_FOUND, 'not-found', `${what} not found`, detail);

export const conflict = (field: string, detail: string) =>
  new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', detail, [
    { field, message: detail },
  ]);

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new ProblemException(
    HttpStatus.BAD_REQUEST,
    errors ? 'validation-error' : 'bad-request',
    errors ? 'Validation failed' : 'Bad request',
    detail,
    errors,
  );

export const forbidden = (detail: string) =>
  new ProblemException(HttpStatus.FORBIDDEN, 'forbidden', 'Forbidden', detail);

export const unauthorized = (detail: string) =>
  new ProblemException(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Unauthorized', detail, undefined, {
    'www-authenticate': 'Bearer realm="idp"',
  });
