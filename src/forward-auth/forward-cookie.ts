import { createHmac, timingSafeEqual } from 'node:crypto';

/** The cookie name, one for every tenant: a cookie of another tenant fails the tenant check. */
export const FORWARD_COOKIE = 'idp_forward_auth';

/**
 * What a forward-auth cookie says, signed (HMAC-SHA256 with the tenant's derived key) and
 * readable by the app behind the proxy, so it holds nothing secret: the OIDC session's uid
 * (what the account page lists), never its id.
 */
export interface ForwardSession {
  /** Tenant the cookie belongs to. */
  t: string;
  /** The OIDC session uid the sign-in made or joined. */
  sid: string;
  /** User id. */
  sub: string;
  usr: string;
  em: string | null;
  nm: string | null;
  /** Group ids and names, in the same order. */
  gid: string[];
  gn: string[];
  /** The sign-in used a second factor (or a passkey). */
  mfa: boolean;
  /** Issued (seconds): the sign-in this cookie comes from; revocations compare against it. */
  iat: number;
  /** Last renewal (seconds), for the idle timeout. */
  seen: number;
  exp: number;
}

/** A short-lived, host-bound proof handed through the browser to set the cookie on an app host. */
export interface Handoff {
  /** Marks the kind, so a cookie is never accepted as a hand-off or the other way round. */
  k: 'handoff';
  host: string;
  /** The URL to land on after the cookie is set (same host). */
  rd: string;
  /** The cookie value to set. */
  c: string;
  exp: number;
}

const b64 = (b: Buffer) => b.toString('base64url');

export function sign(key: Buffer, payload: object): string {
  const body = b64(Buffer.from(JSON.stringify(payload)));
  return `${body}.${b64(createHmac('sha256', key).update(body).digest())}`;
}

/** The payload of a value `sign` made with `key`, or undefined (bad shape or signature). */
export function verify<T>(key: Buffer, value: string | undefined): T | undefined {
  if (!value || value.length > 8192) return undefined;
  const dot = value.indexOf('.');
  if (dot <= 0) return undefined;
  const body = value.slice(0, dot);
  const mac = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', key).update(body).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    return payload && typeof payload === 'object' ? (payload as T) : undefined;
  } catch {
    return undefined;
  }
}

/** One cookie's value from a Cookie header, without parsing the rest. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    const before = at === 0 ? ';' : header[at - 1];
    const eq = at + name.length;
    if ((before === ';' || before === ' ') && header[eq] === '=') {
      const end = header.indexOf(';', eq);
      return header.slice(eq + 1, end < 0 ? undefined : end).trim();
    }
    from = at + name.length;
  }
  return undefined;
}

/** Set-Cookie for the forward-auth cookie on the app host (or its parent domain). */
export function setCookieHeader(
  value: string,
  opts: { secure: boolean; domain: string | null; maxAge: number },
): string {
  return [
    `${FORWARD_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(opts.secure ? ['Secure'] : []),
    ...(opts.domain ? [`Domain=${opts.domain}`] : []),
  ].join('; ');
}
