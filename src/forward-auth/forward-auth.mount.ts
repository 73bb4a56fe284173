import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { Drain } from '../common/drain.js';
import { requestIdOf } from '../common/request-id.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { checkAnswer, problemAnswer, wantsHtml, type AnswerOptions } from './check-answer.js';
import { ForwardAuthService } from './forward-auth.service.js';

/** The check and its read-only aliases: `/<t>/forward-auth[/verify|/proxy|/vouch][?…]`. */
const CHECK_PATH = /^\/([^/?#]+)\/forward-auth(\/verify|\/proxy|\/vouch)?\/?(?:\?([^#]*))?$/;

/**
 * Takes the forward-auth check off the HTTP server ahead of Fastify, as mountOidc does for
 * provider paths (decision 0011): the check is asked before every proxied request, and
 * Fastify's and Nest's request pipeline cost several times the check itself (decision 0020
 * has the figures). The Nest routes stay (OpenAPI, route policies, fastify.inject) and answer
 * identically: both render through check-answer.ts. Request id and log lines as mountOidc's.
 */
export function mountForwardAuth(app: NestFastifyApplication, logger: Logger) {
  const forward = app.get(ForwardAuthService);
  const drain = app.get(Drain);
  const metrics = app.get(MetricsService);
  const server = app.getHttpServer() as Server;
  const [next, ...others] = server.listeners('request') as RequestListener[];
  if (!next || others.length) throw new Error('expected one request listener');
  server.removeListener('request', next);
  const logsRequests = logger.isLevelEnabled('info');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = req.method === 'GET' || req.method === 'HEAD' ? CHECK_PATH.exec(req.url ?? '') : null;
    if (!m) return next.call(server, req, res);
    drain.track(res);
    const id = requestIdOf(req.headers);
    const started = performance.now();
    const [, tenantId, alias, query] = m;
    const q = query ? new URLSearchParams(query) : undefined;
    const opts: AnswerOptions =
      alias === '/proxy'
        ? { ok: 204 }
        : alias === '/vouch'
          ? { ok: 200, redirect: q?.get('forward') === 'true' ? 307 : undefined }
          : { ok: 200, redirect: !alias && wantsHtml(req.headers.accept) ? 302 : undefined };
    const returnTo = alias === '/vouch' ? (q?.get('continue') ?? undefined) : undefined;
    forward
      .check(tenantId, req.headers, returnTo)
      .then((o) => checkAnswer(o, opts))
      .catch((err: unknown) => {
        logger.error({ err, reqId: id }, 'forward-auth check failed');
        return problemAnswer(503, 'the check failed; try again');
      })
      .then((a) => {
        res.writeHead(a.status, { ...a.headers, 'x-request-id': id });
        res.end(req.method === 'HEAD' ? undefined : a.body);
        const ms = performance.now() - started;
        // The same request-duration series as Fastify's routes and the provider's.
        metrics.observeOidcRequest(
          req.method ?? 'GET',
          `/:tenant_id/forward-auth${alias ?? ''}`,
          a.status,
          ms / 1000,
        );
        if (logsRequests)
          logger.info(
            {
              reqId: id,
              req: { method: req.method, url: req.url?.split('?')[0] },
              res: { statusCode: a.status },
              responseTime: ms,
            },
            'request completed',
          );
      });
  });
}
