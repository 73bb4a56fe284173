import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { Drain } from '../common/drain.js';
import { requestIdOf } from '../common/request-id.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { checkAnswer, problemAnswer, wantsHtml, type AnswerOptions } from './check-answer.js';
import { ForwardAuthService, type CheckOutcome } from './forward-auth.service.js';

/** The check and its read-only aliases: `/<t>/forward-auth[/verify|/proxy|/vouch][?…]`. */
const CHECK_PATH = /^\/([^/?#]+)\/forward-auth(\/verify|\/proxy|\/vouch)?\/?(?:\?([^#]*))?$/;

const OK_200: AnswerOptions = { ok: 200 };
const OK_204: AnswerOptions = { ok: 204 };
const OK_200_REDIRECT: AnswerOptions = { ok: 200, redirect: 302 };
const VOUCH_FORWARD: AnswerOptions = { ok: 200, redirect: 307 };
const SUCCESS_BODY = '{"success":true}';

/**
 * Takes the forward-auth check off the HTTP server ahead of Fastify, as mountOidc does for
 * provider paths (decision 0011): the check is asked before every proxied request, and
 * Fastify's and Nest's request pipeline cost several times the check itself (decision 0020
 * has the figures). The Nest routes stay (OpenAPI, route policies, fastify.inject) and answer
 * identically: both render through check-answer.ts. Request id and log lines as mountOidc's.
 * The common answer (a signed-in request, tenant index loaded, no JWT) is computed and written
 * synchronously (no promise), as a flat header list, with its metric series kept.
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
  // The request-duration series (as Fastify's routes and the provider's), kept per label set:
  // GET/HEAD × five routes × a few status classes.
  const observers = new Map<string, (seconds: number) => void>();
  const observe = (method: string, alias: string, status: number, seconds: number) => {
    const key = `${method}${alias}${status}`;
    let o = observers.get(key);
    if (!o) {
      o = metrics.oidcRequestObserver(method, `/:tenant_id/forward-auth${alias}`, status);
      observers.set(key, o);
    }
    o(seconds);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? '';
    const m = method === 'GET' || method === 'HEAD' ? CHECK_PATH.exec(req.url ?? '') : null;
    if (!m) return next.call(server, req, res);
    drain.track(res);
    const started = performance.now();
    // Node has built req.headers already (its own request handling reads them).
    const headers = req.headers;
    const id = requestIdOf(headers);
    const [, tenantId, alias = '', query] = m;
    const q = query ? new URLSearchParams(query) : undefined;
    const opts =
      alias === '/proxy'
        ? OK_204
        : alias === '/vouch'
          ? q?.get('forward') === 'true'
            ? VOUCH_FORWARD
            : OK_200
          : !alias && wantsHtml(headers.accept)
            ? OK_200_REDIRECT
            : OK_200;
    const returnTo = alias === '/vouch' ? (q?.get('continue') ?? undefined) : undefined;

    const finish = (status: number) => {
      const ms = performance.now() - started;
      observe(method, alias, status, ms / 1000);
      if (logsRequests)
        logger.info(
          {
            reqId: id,
            req: { method, url: req.url?.split('?')[0] },
            res: { statusCode: status },
            responseTime: ms,
          },
          'request completed',
        );
    };
    const write = (o: CheckOutcome) => {
      if (o.kind === 'allowed') {
        // Written as a flat header list, without the intermediate objects.
        const h: string[] = ['cache-control', 'no-store'];
        for (const k in o.headers) h.push(k, o.headers[k] as string);
        if (o.setCookie) h.push('set-cookie', o.setCookie);
        if (opts.ok === 200) h.push('content-type', 'application/json');
        h.push('x-request-id', id);
        res.writeHead(opts.ok, h);
        res.end(opts.ok === 200 && method !== 'HEAD' ? SUCCESS_BODY : undefined);
        return finish(opts.ok);
      }
      const a = checkAnswer(o, opts);
      res.writeHead(a.status, { ...a.headers, 'x-request-id': id });
      res.end(method === 'HEAD' ? undefined : a.body);
      finish(a.status);
    };
    const failed = (err: unknown) => {
      logger.error({ err, reqId: id }, 'forward-auth check failed');
      const a = problemAnswer(503, 'the check failed; try again');
      res.writeHead(a.status, { ...a.headers, 'x-request-id': id });
      res.end(method === 'HEAD' ? undefined : a.body);
      finish(a.status);
    };
    let outcome: CheckOutcome | Promise<CheckOutcome>;
    try {
      outcome = forward.check(tenantId, headers, returnTo);
    } catch (err) {
      return failed(err);
    }
    if (outcome instanceof Promise)
      outcome
        .then(write, failed)
        .catch((err: unknown) => logger.error({ err, reqId: id }, 'forward-auth answer failed'));
    else write(outcome);
  });
}
