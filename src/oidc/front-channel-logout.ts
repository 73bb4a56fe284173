import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Branding } from '../tenants/branding.js';
import type { PolicyClient } from './provider-config.js';
import type { ProviderPages } from './provider-pages.port.js';

type Ctx = KoaContextWithOIDC;
type Authorizations = Record<string, { sid?: string } | undefined>;

/** One client's front-channel logout URL, with iss and sid when the client asked for them. */
export function frontChannelUrl(
  client: Pick<PolicyClient, 'frontchannel_logout_uri' | 'frontchannel_logout_session_required'>,
  issuer: string,
  sid: string | undefined,
): string | undefined {
  const uri = client.frontchannel_logout_uri;
  if (!uri) return undefined;
  const url = URL.parse(uri);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  if (client.frontchannel_logout_session_required && sid) {
    url.searchParams.set('iss', issuer);
    url.searchParams.set('sid', sid);
  }
  return url.href;
}

/** The page's CSP with frames allowed from these origins only. */
export function cspWithFrames(csp: string, urls: string[]): string {
  const origins = [...new Set(urls.map((u) => new URL(u).origin))];
  return `${csp}; frame-src ${origins.join(' ')}`;
}

/** The clients whose sign-in ended: all of them when the session is gone, else those removed. */
function endedClients(before: Authorizations, ctx: Ctx): string[] {
  let session: { destroyed?: boolean; authorizations?: Authorizations } | undefined;
  try {
    session = ctx.oidc?.session as typeof session;
  } catch {
    return [];
  }
  if (!session) return [];
  if (session.destroyed) return Object.keys(before);
  const after = session.authorizations ?? {};
  return Object.keys(before).filter((clientId) => !after[clientId]);
}

/**
 * OpenID Connect Front-Channel Logout 1.0 (oidc-provider 9 has none): when the logout
 * confirmation ends a session, the redirect that would follow becomes a page that loads each
 * signed-out client's frontchannel_logout_uri in a hidden iframe and then continues (Refresh
 * header and a link) to where the redirect pointed. The session is read before the provider
 * ends it, since the sids of the ended sign-ins are gone afterwards.
 */
export function attachFrontChannelLogout(
  provider: Provider,
  opts: {
    issuer: string;
    confirmPath: string;
    cookie: { signed: boolean };
    pages: ProviderPages;
    branding: Branding;
  },
) {
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== opts.confirmPath) return next();
    const sessionId = ctx.cookies.get(provider.cookieName('session'), opts.cookie);
    const before = sessionId
      ? ((await provider.Session.find(sessionId))?.authorizations as Authorizations | undefined)
      : undefined;
    await next();
    const location = ctx.response.get('location');
    if (!before || ctx.status !== 303 || !location) return;
    const frames: string[] = [];
    for (const clientId of endedClients(before, ctx as Ctx)) {
      const client = (await provider.Client.find(clientId)) as unknown as PolicyClient | undefined;
      const url = client && frontChannelUrl(client, opts.issuer, before[clientId]?.sid);
      if (url) frames.push(url);
    }
    if (!frames.length) return;
    ctx.remove('location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('content-security-policy', cspWithFrames(opts.pages.csp, frames));
    ctx.set('x-frame-options', 'DENY');
    ctx.set('refresh', `3;url=${location}`);
    ctx.body = opts.pages.frontChannelLogout(opts.branding, { frames, next: location });
  });
}
