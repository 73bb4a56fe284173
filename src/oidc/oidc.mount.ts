import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import { LRUCache } from 'lru-cache';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { isValidTenantId, TenantEvents } from '../../libs/tenancy/index.js';
import { PROBLEM_CONTENT_TYPE, problemType } from '../common/problem.js';
import { Drain } from '../common/drain.js';
import { requestIdOf } from '../common/request-id.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OidcProviders } from './oidc-providers.service.js';
import { logFailure, toProblemException } from '../common/problem.filter.js';
import {
  isExternalMfaRequest,
  isSeedRootPath,
  seedTarget,
  sendInvalidRequest,
} from './seed-paths.js';

/** The provider path without ids (interaction uids, device codes): a bounded metrics label. */
function routeTemplate(path: string): string {
  if (path.startsWith('/device/auth')) return '/device/auth';
  const first = /^\/(\.well-known\/openid-configuration|[a-z]+)/.exec(path)?.[1];
  return first && (OIDC_PATH.test(`/${first}`) || first.startsWith('.well-known'))
    ? `/${first}`
    : '/other';
}

/** The provider's own endpoints under `/<tenant_id>`; everything else falls through to Nest. */
const OIDC_PATH =
  /^\/(?:\.well-known\/openid-configuration|jwks|authorize|token|userinfo|revoke|introspect|logout|device|request)(?:\/|$)/;
const TENANT_PATH = /^\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;
const RFC8414_PATH = /^\/\.well-known\/oauth-authorization-server\/([^/?#]+)\/?(\?[^#]*)?$/;

type Req = IncomingMessage & {
  originalUrl?: string;
  id?: string;
  ip?: string;
  log?: Pick<Logger, 'info'>;
};

/** Where a request goes when it is for a tenant's provider. */
interface OidcTarget {
  tenantId: string;
  /** The provider path, without the tenant prefix. */
  rest: string;
  query: string;
  /** Discovery or JWKS without a query: answered from StaticDocuments once seen. */
  cacheable: boolean;
}

/**
 * Endpoints oidc-provider serves for POST only (OPTIONS is CORS). Another method would reach a
 * GET route that merely shares the prefix (`/device/auth` is `/device/:uid` to it); it gets an
 * OAuth error with 405 instead.
 */
const POST_ONLY = new Set(['/token', '/revoke', '/introspect', '/request', '/device/auth']);

function sendMethodNotAllowed(res: ServerResponse) {
  res.statusCode = 405;
  res.setHeader('allow', 'POST, OPTIONS');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(
    JSON.stringify({
      error: 'invalid_request',
      error_description: 'this endpoint accepts POST requests only',
    }),
  );
}

/** An RFC 9457 answer written by the mount itself (the provider writes its own OAuth errors). */
function sendProblem(
  res: ServerResponse,
  status: 404,
  fields: { title: string; detail?: string; instance?: string },
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
  res.end(
    JSON.stringify({
      type: problemType('not-found'),
      title: fields.title,
      status,
      ...(fields.detail ? { detail: fields.detail } : {}),
      ...(fields.instance ? { instance: fields.instance } : {}),
    }),
  );
}

/** The provider endpoint a request is for, or undefined when it belongs to Nest. */
function oidcTarget(req: IncomingMessage): OidcTarget | undefined {
  const url = req.url ?? '/';
  let tenantId: string;
  let rest: string;
  let query: string;
  const rfc8414 = req.method === 'GET' || req.method === 'HEAD' ? RFC8414_PATH.exec(url) : null;
  if (rfc8414) {
    // RFC 8414 puts the issuer path after the well-known segment; the document is the same.
    tenantId = rfc8414[1];
    rest = '/.well-known/openid-configuration';
    query = rfc8414[2] ?? '';
  } else {
    const m = TENANT_PATH.exec(url);
    if (!m || !m[2] || !OIDC_PATH.test(m[2])) return undefined;
    [, tenantId, rest, query = ''] = m as unknown as [string, string, string, string];
  }
  if (!isValidTenantId(tenantId)) return undefined;
  const cacheable = req.method === 'GET' && !query && StaticDocuments.PATHS.has(rest);
  return { tenantId, rest, query, cacheable };
}

/**
 * Hands `/<tenant_id>/<oidc path>` to that tenant's provider. The provider sees the path
 * without the tenant prefix, and `originalUrl` tells it where it is mounted, so the URLs it
 * builds carry the prefix (and any path of PUBLIC_URL).
 */
function oidcHandler(
  providers: OidcProviders,
  config: AppConfig,
  events: TenantEvents,
  metrics: MetricsService,
) {
  const basePath = new URL(config.publicUrl).pathname.replace(/\/$/, '');
  const documents = new StaticDocuments(events, config.providerCacheSize);
  metrics.resident('documents', () => documents.tenants);
  return async (req: Req, res: ServerResponse, target: OidcTarget) => {
    const { tenantId, rest, query, cacheable } = target;
    if (req.id) res.setHeader('x-request-id', req.id);
    if (cacheable && documents.serve(tenantId, rest, res)) return;
    if (req.method !== 'POST' && req.method !== 'OPTIONS' && POST_ONLY.has(rest)) {
      return sendMethodNotAllowed(res);
    }
    const tenant = await providers.get(tenantId);
    if (!tenant)
      return sendProblem(res, 404, {
        title: 'Not found',
        detail: 'Tenant not found',
        instance: (req.url ?? '/').split('?')[0],
      });
    // Fastify never sees these requests complete (the provider answers them), so log it here.
    const started = performance.now();
    res.once('finish', () => {
      const ms = performance.now() - started;
      metrics.observeOidcRequest(
        req.method ?? 'GET',
        `/:tenant_id${routeTemplate(rest)}`,
        res.statusCode,
        ms / 1000,
      );
      req.log?.info(
        { res: { statusCode: res.statusCode }, responseTime: ms, tenantId },
        'request completed',
      );
    });
    req.originalUrl = `${basePath}/${tenantId}${rest}${query}`;
    req.url = `${rest}${query}`;
    if (cacheable) documents.capture(tenantId, rest, res);
    await tenant.handle(req, res);
  };
}

/**
 * Mounts every tenant's OpenID Provider on the application: a `request` listener on the HTTP
 * server placed before Fastify's takes the provider paths, and hands everything else to Fastify.
 * Provider requests thereby skip Fastify's routing, request and reply objects, child logger and
 * middie, which cost about an eighth of a client_credentials request (decision note 0011), and
 * Fastify never parses their bodies (oidc-provider reads the stream itself). The listener sets
 * what Fastify would have: the request id (same rule as genReqId), the client address (same
 * TRUST_PROXY rule, through Fastify's own proxy-addr) and the request log lines.
 * Consequence: provider paths are not reachable through `fastify.inject`, only over HTTP.
 */
export function mountOidc(app: NestFastifyApplication, logger: Logger) {
  const config = app.get<AppConfig>(APP_CONFIG);
  const handle = oidcHandler(
    app.get(OidcProviders),
    config,
    app.get(TenantEvents),
    app.get(MetricsService),
  );
  const server = app.getHttpServer() as Server;
  const [fastify, ...others] = server.listeners('request') as RequestListener[];
  if (!fastify || others.length) throw new Error('expected one request listener (Fastify)');
  server.removeListener('request', fastify);
  const trusted = trustFunction(config.trustProxy);
  const logsRequests = logger.isLevelEnabled('info');
  const drain = app.get(Drain);
  const dispatch = (req: Req, res: ServerResponse, target: OidcTarget) => {
    req.id = requestIdOf(req.headers);
    if (trusted) {
      const addresses = proxyAddr.all(req, trusted);
      req.ip = addresses[addresses.length - 1];
    }
    if (logsRequests) {
      req.log = logger.child({ reqId: req.id });
      req.log.info({ req }, 'incoming request');
    }
    handle(req, res, target).catch((err: unknown) => {
      // Say, the database is unreachable while the tenant's provider is built: 503, one warning.
      const problem = toProblemException(err);
      logFailure(logger, err, problem, req.id);
      if (res.headersSent) return void res.destroy();
      res.writeHead(problem.status, {
        ...problem.headers,
        'content-type': PROBLEM_CONTENT_TYPE,
      });
      res.end(JSON.stringify(problem.toProblem()));
    });
  };
  server.on('request', (req: Req, res: ServerResponse) => {
    drain.track(res);
    const target = oidcTarget(req);
    if (target?.rest === '/authorize' && (req.method === 'GET' || req.method === 'POST')) {
      // Entra ID's external MFA (id_token + id_token_hint) is served by the hosted EAM pages.
      return void isExternalMfaRequest(req, target.query).then(
        (eam) => {
          if (!eam) return dispatch(req, res, target);
          req.url = `/${target.tenantId}/eam/authorize${target.query}`;
          fastify.call(server, req, res);
        },
        () => res.destroy(),
      );
    }
    if (target) return dispatch(req, res, target);
    if (!isSeedRootPath(req)) return fastify.call(server, req, res);
    // The seed's root authorize/token with a tenant_id parameter: the tenant's own endpoint.
    seedTarget(req).then(
      (seed) =>
        'error' in seed
          ? sendInvalidRequest(res, seed.error)
          : dispatch(req, res, { ...seed, cacheable: false }),
      () => res.destroy(),
    );
  });
}

/** Fastify's reading of TRUST_PROXY (true: every hop; a list: those addresses), or none. */
function trustFunction(
  trustProxy: AppConfig['trustProxy'],
): ((address: string, hop: number) => boolean) | undefined {
  if (trustProxy === false) return undefined;
  if (trustProxy === true) return () => true;
  return proxyAddr.compile(trustProxy);
}

/**
 * Discovery and JWKS change only when the tenant does (settings, clients, keys: all emit a
 * tenant event), yet oidc-provider rebuilds them on every request. The first answer of each is
 * kept per tenant and replayed byte for byte until the tenant changes, in any replica.
 */
const DOCUMENTS_PER_PROVIDER = 4;

class StaticDocuments {
  static readonly PATHS = new Set(['/.well-known/openid-configuration', '/jwks']);
  /**
   * Bounded: DOCUMENTS_PER_PROVIDER tenants' documents per provider the cache holds (two
   * documents, about 4 kB, against about 80 kB for a provider), so a sweep over many tenants
   * keeps only the recently visited ones, and a tenant whose provider was evicted still answers
   * discovery and JWKS without a build.
   */
  private readonly cache: LRUCache<string, { body: Buffer; contentType: string }>;

  constructor(events: TenantEvents, tenants: number) {
    this.cache = new LRUCache({
      max: tenants * DOCUMENTS_PER_PROVIDER * StaticDocuments.PATHS.size,
    });
    events.subscribe((e) => {
      for (const path of StaticDocuments.PATHS) this.cache.delete(e.tenantId + path);
    });
  }

  /** Documents held, in tenants' worth (for the resident gauge). */
  get tenants(): number {
    return Math.ceil(this.cache.size / StaticDocuments.PATHS.size);
  }

  serve(tenantId: string, path: string, res: ServerResponse): boolean {
    const doc = this.cache.get(tenantId + path);
    if (!doc) return false;
    res.statusCode = 200;
    res.setHeader('content-type', doc.contentType);
    res.setHeader('content-length', doc.body.length);
    res.end(doc.body);
    return true;
  }

  /** Records the provider's answer as it is written, if it is a 200. */
  capture(tenantId: string, path: string, res: ServerResponse) {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const keep = (chunk: unknown) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer | string));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      const contentType = res.getHeader('content-type');
      if (res.statusCode === 200 && typeof contentType === 'string' && chunks.length) {
        // A copy of its own size: a chunk may be a view of a larger (pooled) ArrayBuffer, which
        // the kept document would otherwise hold whole (64 kB per document, measured).
        const body = Buffer.alloc(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) at += c.copy(body, at);
        this.cache.set(tenantId + path, { body, contentType });
      }
      return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
  }
}
