/**
 * What domain services throw: a kind (what went wrong, for any caller) and a stable code (which
 * rule, for callers that switch on it), never an HTTP status. The API layer renders it as RFC
 * 9457 problem+json (src/common/problem.filter.ts), the hosted pages as a message
 * (src/hosted/kit/page-errors.ts).
 */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'too-large'
  | 'too-many'
  | 'unavailable';

export interface FieldError {
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  /** Which inputs are wrong, for forms and API clients. */
  fields?: FieldError[];
  /** For `too-many`: when to try again. */
  retryAfterSeconds?: number;
  /** A short summary ("User not found"); the message is then the longer explanation. */
  title?: string;
}

export class DomainError extends Error {
  readonly fields?: FieldError[];
  readonly retryAfterSeconds?: number;
  readonly summary?: string;

  constructor(
    readonly kind: DomainErrorKind,
    /** Stable, kebab-case: becomes the problem type `urn:idp:problem:<code>`. */
    readonly code: string,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message);
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.summary = options.title;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
