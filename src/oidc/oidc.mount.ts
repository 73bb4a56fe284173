import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { isValidTenantId, TenantEvents } from '../../libs/tenancy/index.js';
import { PROBLEM_CONTENT_TYPE, problemType } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OidcProviders } from './oidc-providers.service.js';

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
  log?: { info: (obj: object, msg: string) => void };
};
type Next = (err?: unknown) => void;

function notFound(res: ServerResponse, path: string) {
  res.statusCode = 404;
  res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
  res.end(
    JSON.stringify({
      type: problemType('not-found'),
      title: 'Not found',
      status: 404,
      detail: 'Tenant not found',
      instance: path,
    }),
  );
}

/**
 * Hands `/<tenant_id>/<oidc path>` to that tenant's provider, through middie (before Fastify
 * parses bodies: oidc-provider reads the request stream itself). The provider sees the path
 * without the tenant prefix, and `originalUrl` tells it where it is mounted, so the URLs it
 * builds carry the prefix (and any path of PUBLIC_URL).
 */
export function oidcMiddleware(
  providers: OidcProviders,
  config: AppConfig,
  events: TenantEvents,
  metrics: MetricsService,
) {
  const basePath = new URL(config.publicUrl).pathname.replace(/\/$/, '');
  const documents = new StaticDocuments(events);
  return async (req: Req, res: ServerResponse, next: Next) => {
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
      if (!m || !m[2] || !OIDC_PATH.test(m[2])) return next();
      [, tenantId, rest, query = ''] = m as unknown as [string, string, string, string];
    }
    if (!isValidTenantId(tenantId)) return next();
    const cacheable = req.method === 'GET' && !query && StaticDocuments.PATHS.has(rest);
    if (cacheable && documents.serve(tenantId, rest, req, res)) return;
    const tenant = await providers.get(tenantId);
    if (!tenant) return notFound(res, url.split('?')[0]);
    if (req.id) res.setHeader('x-request-id', req.id);
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

/** Mounts every tenant's OpenID Provider on the application (see oidcMiddleware). */
export function mountOidc(app: NestFastifyApplication) {
  app.use(
    oidcMiddleware(
      app.get(OidcProviders),
      app.get<AppConfig>(APP_CONFIG),
      app.get(TenantEvents),
      app.get(MetricsService),
    ),
  );
}

/**
 * Discovery and JWKS change only when the tenant does (settings, clients, keys: all emit a
 * tenant event), yet oidc-provider rebuilds them on every request. The first answer of each is
 * kept per tenant and replayed byte for byte until the tenant changes, in any replica.
 */
class StaticDocuments {
  static readonly PATHS = new Set(['/.well-known/openid-configuration', '/jwks']);
  private readonly cache = new Map<string, { body: Buffer; contentType: string }>();

  constructor(events: TenantEvents) {
    events.subscribe((e) => {
      for (const path of StaticDocuments.PATHS) this.cache.delete(e.tenantId + path);
    });
  }

  serve(tenantId: string, path: string, req: Req, res: ServerResponse): boolean {
    const doc = this.cache.get(tenantId + path);
    if (!doc) return false;
    if (req.id) res.setHeader('x-request-id', req.id);
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
        this.cache.set(tenantId + path, { body: Buffer.concat(chunks), contentType });
      }
      return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
  }
}
