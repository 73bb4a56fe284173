import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidTenantId } from '../../libs/tenancy/index.js';

/**
 * The main seed's OAuth endpoints live at the root and name the tenant in a `tenant_id`
 * parameter (query for authorize, form body or query for token). They map onto the per-tenant
 * provider paths; nothing else about the request changes.
 */
const SEED_ROOT = /^\/(authorize|token)(?:\?(.*))?$/;
/** oidc-provider's own body limit: a larger token request is refused by it anyway. */
const BODY_LIMIT = 56 * 1024;

export interface SeedTarget {
  tenantId: string;
  rest: string;
  query: string;
}

export function isSeedRootPath(req: IncomingMessage): boolean {
  return SEED_ROOT.test(req.url ?? '');
}

/**
 * Reads a body of known length and puts it back at the front of the stream (`unshift`, before
 * the stream has ended), so oidc-provider reads the request as if nobody had. Without a length
 * (chunked) the body is read to the end and left on `req.body`, which oidc-provider also takes.
 */
export async function peekBody(
  req: IncomingMessage & { body?: Buffer },
): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isInteger(declared) && declared >= 0) {
    if (declared > BODY_LIMIT) return undefined;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (err?: Error) => {
        req.off('readable', onReadable).off('error', done).off('end', onEnd);
        if (err) reject(err);
        else resolve(Buffer.concat(chunks, size));
      };
      const onEnd = () => done();
      const onReadable = () => {
        let chunk: Buffer | null;
        while (size < declared && (chunk = req.read() as Buffer | null) !== null) {
          chunks.push(chunk);
          size += chunk.length;
        }
        if (size >= declared) done();
      };
      req.on('readable', onReadable).on('error', done).on('end', onEnd);
      onReadable();
    });
    if (body.length) req.unshift(body);
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return (req.body = Buffer.concat(chunks, size));
}

/**
 * Where a seed-style root request goes, or a reason it cannot go anywhere. A token request's
 * body is read here to find `tenant_id` (peekBody) and handed on unchanged.
 */
export async function seedTarget(
  req: IncomingMessage & { body?: Buffer },
): Promise<SeedTarget | { error: string }> {
  const [, endpoint, rawQuery = ''] = SEED_ROOT.exec(req.url ?? '') ?? [];
  const params = new URLSearchParams(rawQuery);
  let tenantId = params.get('tenant_id');
  const form = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
  if (!tenantId && endpoint === 'token' && req.method === 'POST' && form) {
    const body = await peekBody(req);
    if (!body) return { error: 'the request body is too large' };
    tenantId = new URLSearchParams(body.toString('utf8')).get('tenant_id');
  }
  if (!tenantId) {
    return { error: `tenant_id is required here (or use /<tenant_id>/${endpoint})` };
  }
  if (!isValidTenantId(tenantId)) return { error: 'tenant_id is not a valid tenant id' };
  params.delete('tenant_id');
  const query = params.toString();
  return { tenantId, rest: `/${endpoint}`, query: query ? `?${query}` : '' };
}

export function sendInvalidRequest(res: ServerResponse, description: string) {
  res.statusCode = 400;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ error: 'invalid_request', error_description: description }));
}

/**
 * Microsoft Entra ID's external MFA call to `/authorize`: `response_type=id_token` with an
 * `id_token_hint` (query or form body). The provider serves only the code flow; these go to the
 * hosted EAM pages. A form body is read and put back, for Fastify to parse again.
 */
export async function isExternalMfaRequest(
  req: IncomingMessage & { body?: Buffer },
  query: string,
): Promise<boolean> {
  let params = new URLSearchParams(query.replace(/^\?/, ''));
  const form = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
  if (req.method === 'POST' && form) {
    const declared = Number(req.headers['content-length']);
    if (!Number.isInteger(declared)) return false;
    const body = await peekBody(req);
    if (!body) return false;
    params = new URLSearchParams(body.toString('utf8'));
  }
  return params.get('response_type') === 'id_token' && params.has('id_token_hint');
}
