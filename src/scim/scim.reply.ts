import type { FastifyReply } from 'fastify';
import { SCIM_CONTENT_TYPE } from './scim.errors.js';

/** The access policy of every SCIM route: a key holding the `scim` scope. */
export const SCIM = { scope: 'scim' } as const;

/** Answers a SCIM document (application/scim+json), or an empty body. */
export function send(
  reply: FastifyReply,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  void reply.status(status).headers(headers);
  if (body === undefined) return void reply.send();
  void reply.header('content-type', SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}
