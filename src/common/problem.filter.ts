import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './domain-error.js';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemException,
  problemType,
  STATUS_OF_KIND,
  type ProblemDetails,
} from './problem.js';
import { classifyDatabaseError } from '../database/database-errors.js';
import { onceEvery } from './throttle.js';

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

const STATUS_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  500: 'internal',
  503: 'unavailable',
};

/** Database constraint errors as problems: unique → 409, FK → 409, bad text → 400. */
export function problemFromDatabaseError(error: unknown): ProblemException | undefined {
  const violation = classifyDatabaseError(error);
  switch (violation?.kind) {
    case 'unique':
      return new ProblemException(
        HttpStatus.CONFLICT,
        'conflict',
        'Conflict',
        `${violation.field} is already in use`,
        [{ field: violation.field, message: 'already in use' }],
      );
    case 'reference':
      return new ProblemException(
        HttpStatus.CONFLICT,
        'conflict',
        'Conflict',
        'A referenced resource does not exist or is still referenced',
      );
    case 'unavailable':
      return new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'unavailable',
        'Service unavailable',
        'The database is not reachable right now; try again shortly',
        undefined,
        { 'retry-after': String(UNAVAILABLE_RETRY_SECONDS) },
      );
    case 'invalid-value':
      return new ProblemException(
        HttpStatus.BAD_REQUEST,
        'bad-request',
        'Bad request',
        'A value has an invalid format',
      );
    default:
      return undefined;
  }
}

/** Maps anything thrown into a problem; unknown errors become a bare 500 without internals. */
export function toProblemException(error: unknown): ProblemException {
  if (error instanceof ProblemException) return error;
  if (error instanceof DomainError) {
    const status = STATUS_OF_KIND[error.kind];
    const title = error.summary ?? STATUS_TITLES[status] ?? 'Error';
    return new ProblemException(
      status,
      error.code,
      title,
      error.message === title ? undefined : error.message,
      error.fields,
      error.retryAfterSeconds !== undefined
        ? { 'retry-after': String(error.retryAfterSeconds) }
        : undefined,
    );
  }
  // Constraint errors come as QueryFailedError; an unreachable database as anything from the pool.
  const mapped = problemFromDatabaseError(error);
  if (mapped) return mapped;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const detail =
      typeof response === 'object' && response && 'message' in response
        ? String((response as { message: unknown }).message)
        : error.message;
    return new ProblemException(
      status,
      STATUS_CODES[status] ?? 'error',
      STATUS_TITLES[status] ?? 'Error',
      detail,
    );
  }
  // Fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx statusCode.
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = (error as { code?: string }).code;
    const detail =
      code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'Send the body as application/json'
        : code?.startsWith('FST_ERR_CTP') || (error as Error).name === 'SyntaxError'
          ? 'The request body is not valid JSON'
          : (error as Error).message;
    return new ProblemException(
      statusCode,
      STATUS_CODES[statusCode] ?? 'bad-request',
      STATUS_TITLES[statusCode] ?? 'Bad request',
      detail,
    );
  }
  return new ProblemException(
    HttpStatus.INTERNAL_SERVER_ERROR,
    'internal',
    STATUS_TITLES[500],
    'An unexpected error occurred',
  );
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  problem: ProblemException,
) {
  const body: ProblemDetails = problem.toProblem(request.url.split('?')[0]);
  if (problem.status >= 500) body.request_id = String(request.id);
  void reply
    .status(problem.status)
    .headers(problem.headers ?? {})
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(body));
}

const UNAVAILABLE_RETRY_SECONDS = 5;
/** During an outage every request fails alike: one warning per 30 s, not one per request. */
const outageWarning = onceEvery(30_000);

/**
 * A 5xx as the logs should see it: an unreachable database is an expected state (one warning per
 * outage window), a 5xx a service chose to answer (readiness) is no error at all, anything else
 * is a bug and logged as one.
 */
export function logFailure(
  logger: Pick<Logger, 'error' | 'warn'>,
  exception: unknown,
  problem: ProblemException,
  reqId: unknown,
) {
  // A refusal a service chose (readiness, mail not configured) is its answer, not a failure.
  if (exception instanceof DomainError) return;
  if (problem.code === 'unavailable') {
    if (outageWarning())
      logger.warn({ err: exception, reqId }, 'database unavailable: answering 503');
    return;
  }
  logger.error({ err: exception, reqId }, 'unhandled error');
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost) {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = toProblemException(exception);
    if (problem.status >= 500) logFailure(this.logger, exception, problem, request.id);
    sendProblem(reply, request, problem);
  }
}

export { problemType };
