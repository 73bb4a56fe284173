import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { PROBLEM_CONTENT_TYPE, problemType } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { OidcProviders } from './oidc-providers.service.js';

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
export function oidcMiddleware(providers: OidcProviders, config: AppConfig) {
  const basePath = new URL(config.publicUrl).pathname.replace(/\/$/, '');
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
    const tenant = await providers.get(tenantId);
    if (!tenant) return notFound(res, url.split('?')[0]);
    if (req.id) res.setHeader('x-request-id', req.id);
    // Fastify never sees these requests complete (the provider answers them), so log it here.
    const started = performance.now();
    res.once('finish', () =>
      req.log?.info(
        {
          res: { statusCode: res.statusCode },
          responseTime: performance.now() - started,
          tenantId,
        },
        'request completed',
      ),
    );
    req.originalUrl = `${basePath}/${tenantId}${rest}${query}`;
    req.url = `${rest}${query}`;
    await tenant.handle(req, res);
  };
}

/** Mounts every tenant's OpenID Provider on the application (see oidcMiddleware). */
export function mountOidc(app: NestFastifyApplication) {
  app.use(oidcMiddleware(app.get(OidcProviders), app.get<AppConfig>(APP_CONFIG)));
}
