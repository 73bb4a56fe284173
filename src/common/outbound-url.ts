import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The rules for every URL the server itself fetches (a client's `jwks_uri` today): https only,
 * and never an address inside the deployment's own networks (loopback, private, link-local,
 * CGNAT, multicast, documentation and other special-use ranges), judged on the addresses the
 * host name resolves to. Checked when the URL is set and again when it is fetched (decision
 * note 0012). OUTBOUND_ALLOW_PRIVATE lifts both rules, for local test servers only.
 */

/** Special-use ranges (IANA IPv4/IPv6 special-purpose registries) no fetch may reach. */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  SPECIAL_USE.addSubnet(net, prefix, 'ipv6');
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Whether an IP address lies in a range the server must not fetch from. */
export function isSpecialUseAddress(address: string): boolean {
  const mapped = MAPPED_V4.exec(address);
  if (mapped) return isSpecialUseAddress(mapped[1]);
  const family = isIP(address);
  if (family === 4) return SPECIAL_USE.check(address, 'ipv4');
  if (family === 6) return SPECIAL_USE.check(address, 'ipv6');
  return true;
}

export interface OutboundPolicy {
  /** OUTBOUND_ALLOW_PRIVATE: http and internal addresses allowed (local test servers). */
  allowPrivate: boolean;
}

const LOOKUP_TIMEOUT_MS = 3000;

async function resolveAll(hostname: string): Promise<string[]> {
  if (isIP(hostname)) return [hostname];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What is wrong with a URL the server would fetch, or undefined. Resolves the host: a name that
 * resolves to any internal address is refused. A name that does not resolve (yet) passes when
 * the URL is set (`atFetch` false): nothing can be judged, and the fetch checks again.
 */
export async function outboundUrlProblem(
  value: string,
  policy: OutboundPolicy,
  atFetch = false,
): Promise<string | undefined> {
  const url = URL.parse(value);
  if (!url) return 'must be an absolute URL';
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    return 'must use https';
  }
  if (policy.allowPrivate) return undefined;
  // URL keeps IPv6 literals in brackets.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = await resolveAll(hostname);
  } catch {
    return atFetch ? 'the host does not resolve' : undefined;
  }
  if (addresses.some(isSpecialUseAddress)) {
    return 'must not point at a loopback, private, link-local or other internal address';
  }
  return undefined;
}

/** An outbound URL refused at fetch time; the caller sees a failed fetch. */
export class OutboundUrlRefused extends Error {
  constructor(url: string, problem: string) {
    super(`refused to fetch ${url}: ${problem}`);
  }
}

/** At most this many bytes of a fetched document are read (oidc-provider's default: no limit). */
export const MAX_FETCHED_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 2500;

/**
 * The connection's own DNS answer, judged before connecting: the address checked is the address
 * used, so a name that changes its answer after the URL was checked (DNS rebinding) gains
 * nothing.
 */
const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isSpecialUseAddress(a.address));
    if (bad || !list.length) {
      return callback(
        new OutboundUrlRefused(hostname, `${bad?.address ?? 'nothing'} is an internal address`),
        '',
        4,
      );
    }
    if ((options as { all?: boolean }).all) return (callback as AllCallback)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};
type AllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

/**
 * The `fetch` handed to oidc-provider (GET of a client's jwks_uri): https only, the URL judged
 * again and the connection's addresses checked as it is made (checkedLookup), no redirects,
 * a short timeout and a size cap. With OUTBOUND_ALLOW_PRIVATE, http and internal addresses pass.
 */
export function guardedFetch(policy: OutboundPolicy) {
  return async (url: URL | string, options: { headers?: Headers; method?: string }) => {
    const href = String(url);
    const problem = await outboundUrlProblem(href, policy, true);
    if (problem) throw new OutboundUrlRefused(href, problem);
    return send(new URL(href), 'GET', Object.fromEntries(options.headers ?? []), policy);
  };
}

/**
 * A `fetch` for a client library that talks to another server on the user's behalf (upstream
 * identity providers through openid-client): GET or POST, under the same rules as
 * guardedFetch (URL judged, addresses checked at connect, no redirects, timeout, size cap).
 */
export function guardedClientFetch(policy: OutboundPolicy) {
  return async (
    url: URL | string,
    options: { headers?: Record<string, string> | Headers; method?: string; body?: unknown } = {},
  ): Promise<Response> => {
    const href = String(url);
    const problem = await outboundUrlProblem(href, policy, true);
    if (problem) throw new OutboundUrlRefused(href, problem);
    const method = (options.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST')
      throw new OutboundUrlRefused(href, `${method} is not allowed`);
    const headers = Object.fromEntries(new Headers(options.headers));
    let body: string | undefined;
    if (options.body !== undefined && options.body !== null) {
      body =
        options.body instanceof URLSearchParams ? options.body.toString() : String(options.body);
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return send(new URL(href), method, headers, policy, body);
  };
}

/**
 * A form POST under the same rules (a client's backchannel_logout_uri): answers the status; the
 * answer's body is read up to the cap and dropped. Redirects are not followed.
 */
export async function guardedFormPost(
  policy: OutboundPolicy,
  url: string,
  form: URLSearchParams,
): Promise<number> {
  const problem = await outboundUrlProblem(url, policy, true);
  if (problem) throw new OutboundUrlRefused(url, problem);
  const body = form.toString();
  const res = await send(
    new URL(url),
    'POST',
    {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
    },
    policy,
    body,
  );
  return res.status;
}

function send(
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  policy: OutboundPolicy,
  body?: string,
): Promise<Response> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers,
        timeout: FETCH_TIMEOUT_MS,
        ...(policy.allowPrivate ? {} : { lookup: checkedLookup }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_FETCHED_BYTES) {
            req.destroy(new Error('response too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') responseHeaders.set(name, value);
          }
          const status = res.statusCode ?? 502;
          // A redirect is not followed: it would be a way around the address check.
          resolve(
            new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
              status,
              headers: responseHeaders,
            }),
          );
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('fetch timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
