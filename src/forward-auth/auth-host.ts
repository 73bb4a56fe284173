import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { Drain } from '../common/drain.js';
import { requestIdOf } from '../common/request-id.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { problemAnswer } from './check-answer.js';
import { normalHost } from './forward-request.js';

/**
 * The passkey ceremonies the hosted pages' scripts call (PassKey Auth's `/auth/ws/*`): bound
 * to the auth host's cookies and WebAuthn origin, so 404 elsewhere rather than a redirect a
 * script cannot follow. Checked before UI_PATH (they sit under UI namespaces).
 */
const RESTRICTED_PATH =
  /^\/([^/?#]+)\/(?:interaction\/[^?#]*passkey-options|account\/passkeys\/(?:options|register)|signup\/passkey(?:-options)?|device-link\/[^/?#]+\/options)\/?(?:[?#]|$)/;

/**
 * The tenant's sign-in UI: the provider's browser endpoints (authorization and its resume,
 * end-session, device), the hosted pages (interaction, login, signup, account, device links, Entra EAM,
 * upstream return points) and forward-auth's sign-in round trip. Everything else under the
 * tenant (discovery, token, userinfo, SCIM, the forward-auth check and its API, headless
 * sign-in) is API and served on every host.
 */
const UI_PATH =
  /^\/([^/?#]+)\/(?:authorize|interaction|login|signup|account|logout|device|device-link|eam|upstream|forward-auth\/(?:start|callback))(?:[/?#]|$)/;

export type HostRoute = { kind: 'ui' | 'restricted'; tenantId: string } | undefined;

/** Which auth-host rule a request path falls under, if any (the tenant still to be read). */
export function hostRoute(url: string): HostRoute {
  const r = RESTRICTED_PATH.exec(url);
  if (r) return { kind: 'restricted', tenantId: r[1] };
  const u = UI_PATH.exec(url);
  return u ? { kind: 'ui', tenantId: u[1] } : undefined;
}

const first = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

/**
 * Dedicated auth-host mode (PassKey Auth's `--auth-host`), per tenant (`auth_host` setting):
 * on any host but the tenant's auth host, a UI path answers 307 to the same path there (method
 * and body kept; an app host's `/_idp` prefix is already the tenant's `/<t>/forward-auth` here,
 * so the 307 strips it), a restricted path 404, and everything else is served. Without an
 * auth host nothing changes: every host serves every path. The request's host is the proxy's
 * `X-Forwarded-Host` (an app host's `/_idp/` route) or `Host`. Installed on the HTTP server
 * ahead of the provider and Fastify, so paths of neither kind pay one regular expression.
 */
export function mountAuthHost(app: NestFastifyApplication) {
  const tenants = app.get(TenantsService);
  const drain = app.get(Drain);
  const config = app.get<AppConfig>(APP_CONFIG);
  const scheme = new URL(config.publicUrl).protocol.slice(0, -1);
  const server = app.getHttpServer() as Server;
  const [next, ...others] = server.listeners('request') as RequestListener[];
  if (!next || others.length) throw new Error('expected one request listener');
  server.removeListener('request', next);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = hostRoute(req.url ?? '');
    if (!route || !isValidTenantId(route.tenantId)) return next.call(server, req, res);
    // Existence first: it is cached both ways, so unknown tenants cost no query here.
    tenants
      .exists(route.tenantId)
      .then((known) => (known ? tenants.settings(route.tenantId) : undefined))
      .then(
        (s) => {
          const proto = first(req.headers['x-forwarded-proto']) ?? scheme;
          const host = first(req.headers['x-forwarded-host']) ?? req.headers.host ?? '';
          if (!s?.auth_host || normalHost(host, proto) === normalHost(s.auth_host, scheme))
            return next.call(server, req, res);
          drain.track(res);
          const id = requestIdOf(req.headers);
          if (route.kind === 'restricted') {
            const a = problemAnswer(404, 'not on this host: use the auth host');
            res.writeHead(404, { ...a.headers, 'x-request-id': id });
            return res.end(a.body);
          }
          res.writeHead(307, {
            location: `${scheme}://${s.auth_host}${req.url}`,
            'cache-control': 'no-store',
            'x-request-id': id,
          });
          res.end();
        },
        // Unknown tenant or no database: the ordinary route answers (404, 503).
        () => next.call(server, req, res),
      );
  });
}
