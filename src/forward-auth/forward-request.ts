import type { ProtectedAppEntity } from './protected-app.entity.js';

/** The request the proxy is asking about, from the headers it adds. */
export interface OriginalRequest {
  proto: 'http' | 'https';
  /** Lower case, without a default port. */
  host: string;
  /** Path and query as the browser asked for them. */
  uri: string;
  method: string;
}

type Headers = Record<string, string | string[] | undefined>;

/** The first of a comma-joined header value (the client's end of a proxy chain), trimmed. */
function first(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const comma = s.indexOf(',');
  return (comma < 0 ? s : s.slice(0, comma)).trim() || undefined;
}

/** Host as matched against protected apps: lower case, default ports dropped. */
export function normalHost(host: string, proto: string): string {
  const h = host.toLowerCase();
  if (proto === 'http' && h.endsWith(':80')) return h.slice(0, -3);
  if (proto === 'https' && h.endsWith(':443')) return h.slice(0, -4);
  return h;
}

/**
 * nginx's `X-Original-URL`, else Traefik's and Caddy's `X-Forwarded-Proto/Host/Uri`
 * (`X-Forwarded-Method` for the method). Undefined when the proxy sent neither.
 */
export function originalRequest(headers: Headers): OriginalRequest | undefined {
  const given = first(headers['x-forwarded-method']);
  const method = given === undefined || given === 'GET' ? 'GET' : given.toUpperCase();
  const original = first(headers['x-original-url']);
  if (original) {
    const url = absoluteUrl(original);
    if (!url) return undefined;
    return { proto: url.proto, host: url.host, uri: url.uri, method };
  }
  const host = first(headers['x-forwarded-host']);
  if (!host) return undefined;
  const proto = first(headers['x-forwarded-proto']) === 'https' ? 'https' : 'http';
  const uri = first(headers['x-forwarded-uri']) ?? '/';
  return {
    proto,
    host: normalHost(host, proto),
    uri: uri.startsWith('/') ? uri : `/${uri}`,
    method,
  };
}

/** An http(s) URL without credentials, split as the matcher wants it; undefined otherwise. */
export function absoluteUrl(raw: string): OriginalRequest | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  const proto = url.protocol === 'https:' ? 'https' : 'http';
  return {
    proto,
    host: normalHost(url.host, proto),
    uri: url.pathname + url.search,
    method: 'GET',
  };
}

const underPrefix = (path: string, prefix: string) =>
  prefix === '/' ||
  path === prefix ||
  path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/** The tenant's apps by host, longest path prefix first. */
export class AppIndex {
  private readonly byHost = new Map<string, ProtectedAppEntity[]>();

  constructor(readonly apps: ProtectedAppEntity[]) {
    for (const app of apps)
      for (const host of app.hosts) this.byHost.set(host, [...(this.byHost.get(host) ?? []), app]);
    for (const list of this.byHost.values())
      list.sort((a, b) => b.path_prefix.length - a.path_prefix.length);
  }

  /** The app a request is for, or undefined (not protected here). */
  match(host: string, uri: string): ProtectedAppEntity | undefined {
    const list = this.byHost.get(host);
    if (!list) return undefined;
    const q = uri.indexOf('?');
    const path = q < 0 ? uri : uri.slice(0, q);
    return list.find((a) => underPrefix(path, a.path_prefix));
  }

  hasHost(host: string): boolean {
    return this.byHost.has(host);
  }

  /**
   * A return URL the sign-in may send the browser to: http(s), no credentials, on a host of
   * one of the tenant's protected apps. Anything else (another site, `//evil`, javascript:)
   * is refused: no open redirect.
   */
  safeReturn(raw: string | undefined): { url: string; req: OriginalRequest } | undefined {
    if (!raw || raw.length > 4096) return undefined;
    const req = absoluteUrl(raw);
    if (!req || !this.match(req.host, req.uri)) return undefined;
    return { url: `${req.proto}://${req.host}${req.uri}`, req };
  }
}
