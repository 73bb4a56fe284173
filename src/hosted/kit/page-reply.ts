import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditContextOf } from '../../audit/audit.service.js';
import { PAGE_CSP, PAGE_CSP_SCRIPTS, PAGE_CSP_WASM } from './layout.js';

/**
 * What a hosted-page request answers: a page (`scripts` when it runs a WebAuthn ceremony), a
 * redirect back into the provider, or the JSON options of a ceremony.
 */
export type PageResult =
  | { status: number; html: string; scripts?: boolean | 'wasm' }
  | { status: 303; location: string }
  | { status: number; json: unknown };

/** A page result, plus a cookie to set when the step needs one. */
export type PageReply = PageResult & { setCookie?: string };

/** The request as the pages need it: raw objects for oidc-provider, the caller for audit and blocker. */
export interface PageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  ip: string | null;
  userAgent: string | null;
}

/** Writes a page result with the headers every hosted page carries. */
export function send(reply: FastifyReply, page: PageReply) {
  if (page.setCookie) void reply.header('set-cookie', page.setCookie);
  void reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header(
      'content-security-policy',
      !('scripts' in page) || !page.scripts
        ? PAGE_CSP
        : page.scripts === 'wasm'
          ? PAGE_CSP_WASM
          : PAGE_CSP_SCRIPTS,
    );
  if ('location' in page) {
    void reply.status(303).header('location', page.location).send();
    return;
  }
  if ('json' in page) {
    void reply.status(page.status).type('application/json').send(JSON.stringify(page.json));
    return;
  }
  void reply.status(page.status).type('text/html; charset=utf-8').send(page.html);
}

export function pageRequest(req: FastifyRequest, reply: FastifyReply): PageRequest {
  return { req: req.raw, res: reply.raw, ...auditContextOf(req) };
}

export function form(body: unknown): Record<string, string> {
  return body && typeof body === 'object' ? (body as Record<string, string>) : {};
}
