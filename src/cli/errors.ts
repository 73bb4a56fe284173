import { isDomainError, type DomainErrorKind } from '../common/domain-error.js';

/**
 * The exit codes of `idp` (README "CLI"): scripts switch on them, so they never change meaning.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected: a server error, a crash. */
  failure: 1,
  /** The command line is wrong: unknown command or option, missing argument. */
  usage: 2,
  /** The tenant, user or key named does not exist. */
  notFound: 3,
  /** It exists already (tenant id, username, ...). */
  conflict: 4,
  /** The key is missing, unknown or lacks the scope (401/403). */
  refused: 5,
  /** The server or the database cannot be reached, or is not ready (503). */
  unavailable: 6,
  /** The server refused the input (400: validation, a bad document, a wrong passphrase). */
  invalid: 7,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage);

const BY_KIND: Partial<Record<DomainErrorKind, number>> = {
  invalid: EXIT.invalid,
  'too-large': EXIT.invalid,
  unauthenticated: EXIT.refused,
  forbidden: EXIT.refused,
  'not-found': EXIT.notFound,
  conflict: EXIT.conflict,
  unavailable: EXIT.unavailable,
};

export function exitCodeOfStatus(status: number): number {
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalid;
  if (status === 401 || status === 403) return EXIT.refused;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 503) return EXIT.unavailable;
  return EXIT.failure;
}

/** Any error as the CLI reports it: a message, an exit code and (for --json) the details. */
export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (isDomainError(error)) {
    return new CliError(error.message, BY_KIND[error.kind] ?? EXIT.failure, {
      code: error.code,
      errors: error.fields,
    });
  }
  const e = error as { code?: string; message?: string; driverError?: { code?: string } };
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EAI_AGAIN'].includes(e.code ?? '') ||
    (e.driverError?.code ?? '').startsWith('08')
  ) {
    return new CliError(e.message ?? 'unreachable', EXIT.unavailable);
  }
  const driver = e.driverError?.code;
  if (driver === '23505') return new CliError(e.message ?? 'conflict', EXIT.conflict);
  return new CliError(e.message ?? String(error), EXIT.failure);
}
