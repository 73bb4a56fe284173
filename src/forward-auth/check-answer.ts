import { PROBLEM_CONTENT_TYPE, problemType } from '../common/problem.js';
import type { CheckOutcome } from './forward-auth.service.js';

/** An HTTP answer as plain data, written by the Nest routes and by the fast mount alike. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body?: string;
}

export interface AnswerOptions {
  /** The success status: 200 (nginx, Traefik, Caddy, vouch), 204 (PassKey Auth's proxy). */
  ok: 200 | 204;
  /** Sent to a browser that must sign in (302; vouch's 307), instead of 401. */
  redirect?: 302 | 307;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  503: 'Service unavailable',
};

export const wantsHtml = (accept: string | undefined) => (accept ?? '').includes('text/html');

export function problemAnswer(
  status: number,
  reason: string,
  extra: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...extra },
    body: JSON.stringify({
      type: problemType(`forward-auth-${status}`),
      title: TITLES[status],
      status,
      detail: reason,
      reason,
    }),
  };
}

/**
 * A check's outcome in the convention asked for. A 401 carries the sign-in URL in Location
 * too, for nginx (`auth_request_set $x $upstream_http_location`), which treats a 3xx from the
 * check as an error.
 */
export function checkAnswer(o: CheckOutcome, opts: AnswerOptions): Answer {
  switch (o.kind) {
    case 'allowed': {
      const headers: Answer['headers'] = { 'cache-control': 'no-store', ...o.headers };
      if (o.setCookie) headers['set-cookie'] = o.setCookie;
      if (opts.ok === 204) return { status: 204, headers };
      headers['content-type'] = 'application/json';
      return { status: 200, headers, body: '{"success":true}' };
    }
    case 'unauthenticated':
      if (opts.redirect && o.signin)
        return {
          status: opts.redirect,
          headers: { location: o.signin, 'cache-control': 'no-store' },
        };
      return problemAnswer(401, o.reason, o.signin ? { location: o.signin } : {});
    case 'forbidden':
      return problemAnswer(403, o.reason);
    case 'bad-request':
      return problemAnswer(400, o.reason);
    case 'no-tenant':
      return problemAnswer(404, 'unknown tenant');
  }
}
