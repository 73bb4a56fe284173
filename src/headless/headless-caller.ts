import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditContextOf } from '../audit/audit.service.js';
import { StepAnswerDto } from './dto/authn.dto.js';
import type { Caller } from './headless-sign-in.service.js';

/** The caller of a headless step as the sign-in rules see it (answers are never cached). */
export function caller(req: FastifyRequest, reply: FastifyReply): Caller {
  const origin = req.headers.origin;
  void reply.header('cache-control', 'no-store');
  return {
    req: req.raw,
    res: reply.raw,
    ...auditContextOf(req),
    origin: typeof origin === 'string' ? origin : undefined,
  };
}

/** The OpenAPI answer of every step. */
export const STEP = { type: StepAnswerDto, description: 'the next step, or finish_url' };
