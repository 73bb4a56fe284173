/**
 * Errors on the hosted pages: one boundary every hosted controller answers through, and the
 * domain error → page message lookup. A browser flow always gets a page, never a JSON problem:
 * a DomainError becomes the page of its kind (its status, a message by code or kind), anything
 * else a 500 page that shows no internals.
 */
import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  isDomainError,
  type DomainError,
  type DomainErrorKind,
} from '../../common/domain-error.js';
import { logFailure, toProblemException } from '../../common/problem.filter.js';
import { STATUS_OF_KIND } from '../../common/problem.js';
import { isDatabaseUnavailable } from '../../database/database-errors.js';
import { fallbackBranding } from './branding.js';
import { errorPage, messagePage, type Branding } from './layout.js';
import { send, type PageReply, type PageResult } from './page-reply.js';

/** Page texts for domain errors, by code (first) or kind. */
export type PageMessages = Partial<Record<DomainErrorKind | (string & {}), string>>;

/** What a page tells the user of a domain error nobody handled more precisely. */
const KIND_MESSAGES: Record<DomainErrorKind, string> = {
  invalid: 'The request could not be completed.',
  unauthenticated: 'Sign in again, then try again.',
  forbidden: 'This is not allowed here.',
  'not-found': 'There is nothing here.',
  conflict: 'Something changed in the meantime. Reload the page and try again.',
  'precondition-failed': 'Something changed in the meantime. Reload the page and try again.',
  'too-large': 'The request is too large.',
  'too-many': 'Too many attempts. Try again later.',
  unavailable: 'This is not available right now. Try again later.',
};

/** The status a page answers a domain error with: the one of its kind. */
export function statusOf(err: DomainError): number {
  return STATUS_OF_KIND[err.kind];
}

/** The message of a domain error on a page: by its code, else its kind, else `fallback`. */
export function messageOf(
  err: DomainError,
  messages: PageMessages = {},
  fallback?: string,
): string {
  return messages[err.code] ?? messages[err.kind] ?? fallback ?? KIND_MESSAGES[err.kind];
}

/** 404 for a tenant (or page) that does not exist, in the area's fallback branding. */
export function notFoundPage(area: string): PageResult {
  return {
    status: 404,
    html: messagePage(fallbackBranding(area), 'Page not found', 'There is nothing here.'),
  };
}

/**
 * The error boundary of a hosted controller: runs a step and sends its page; what the step
 * throws becomes a page too.
 */
export class PageErrorBoundary {
  private readonly logger: Logger;

  /** `area` names the pages in the fallback branding ("Sign in", "Account"). */
  constructor(private readonly area: string) {
    this.logger = new Logger(`HostedPages(${area})`);
  }

  /** The page of an error that reached the boundary. */
  page(err: unknown, b: Branding = fallbackBranding(this.area)): PageResult {
    if (!isDomainError(err) && isDatabaseUnavailable(err)) {
      // An outage, not a bug: the page says so, the log gets the API's rate-limited warning.
      logFailure(this.logger, err, toProblemException(err), undefined);
      return {
        status: 503,
        html: errorPage(b, 'temporarily_unavailable', KIND_MESSAGES.unavailable),
      };
    }
    if (isDomainError(err)) {
      return { status: statusOf(err), html: errorPage(b, err.code, messageOf(err)) };
    }
    this.logger.error({ err }, 'hosted page failed');
    return {
      status: 500,
      html: errorPage(b, 'server_error', 'Something went wrong on our side. Try again later.'),
    };
  }

  async reply(reply: FastifyReply, step: () => Promise<PageReply>): Promise<void> {
    let page: PageReply;
    try {
      page = await step();
    } catch (err) {
      page = this.page(err);
    }
    send(reply, page);
  }
}
