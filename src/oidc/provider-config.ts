import {
  errors,
  type AdapterFactory,
  type Configuration,
  type FindAccount,
  type JWK,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { guardedFetch, MAX_FETCHED_BYTES, type OutboundPolicy } from '../common/outbound-url.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { brandingOf } from '../tenants/branding.js';
import type { ClientDisplay, ProviderPages } from './provider-pages.port.js';
import { ACR_LEVELS } from './auth-context.js';
import { buildPolicy, policyClient } from './interaction-policy.js';
import { CLAIMS_BY_SCOPE, PROVIDER_SCOPES } from './scopes.js';

/**
 * The sign-in time and its authentication context ride in every user access token (`extra`),
 * from the code, refresh token or device code it was issued from: the self-service API asks for
 * a recent sign-in, and introspection answers `auth_time`, `acr` and `amr` (RFC 7662 + 8176).
 */
async function authTimeClaim(ctx: KoaContextWithOIDC, token: { kind: string }) {
  if (token.kind !== 'AccessToken') return undefined;
  const e = (ctx?.oidc?.entities ?? {}) as Record<
    string,
    { authTime?: unknown; acr?: unknown; amr?: unknown } | undefined
  >;
  const from =
    e.AuthorizationCode ?? e.RefreshToken ?? e.DeviceCode ?? e.BackchannelAuthenticationRequest;
  if (typeof from?.authTime !== 'number') return undefined;
  return {
    auth_time: from.authTime,
    ...(typeof from.acr === 'string' ? { acr: from.acr } : {}),
    ...(Array.isArray(from.amr) ? { amr: from.amr } : {}),
  };
}

/** Custom client properties served by ClientsService beside the standard metadata. */
export const CLIENT_POLICY_PROPERTIES = [
  'api_scopes',
  'client_type',
  'is_lock',
  'is_group_restricted',
  'first_party',
  'register_enable',
  'frontchannel_logout_uri',
  'frontchannel_logout_session_required',
];

/** Client fields the provider knows beyond the standard ones (custom properties). */
export type PolicyClient = {
  clientId: string;
  clientName?: string;
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
  clientAuthMethod: string;
  redirectUris?: string[];
  scope?: string;
  /** The client's own API scopes, granted in client_credentials tokens (see ClientAdapter). */
  api_scopes?: string[];
  client_type?: string;
  is_lock?: boolean;
  is_group_restricted?: boolean;
  first_party?: boolean;
  frontchannel_logout_uri?: string;
  frontchannel_logout_session_required?: boolean;
};

export interface ProviderParts {
  tenantId: string;
  issuer: string;
  settings: TenantSettings & { display_name: string };
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  adapter: AdapterFactory;
  findAccount: FindAccount;
  /** Whether a user may sign in to a client (group-restricted clients). */
  mayUseClient: (accountId: string, client: PolicyClient) => Promise<boolean>;
  /** The grant the user last gave this client, if any, to carry consent over to a new session. */
  previousGrant: (
    accountId: string,
    clientId: string,
  ) => Promise<Record<string, unknown> | undefined>;
  /** Rules for the URLs the provider fetches (a client's jwks_uri). */
  outbound: OutboundPolicy;
  /** The pages the provider renders itself (device flow, sign-out, errors). */
  pages: ProviderPages;
}

export function clientDisplay(client: PolicyClient | undefined): ClientDisplay | undefined {
  if (!client) return undefined;
  return {
    name: client.clientName ?? client.clientId,
    logoUri: client.logoUri,
    policyUri: client.policyUri,
    tosUri: client.tosUri,
  };
}

function html(ctx: KoaContextWithOIDC, pages: ProviderPages, body: string) {
  ctx.type = 'html';
  ctx.set('content-security-policy', pages.csp);
  ctx.set('x-frame-options', 'DENY');
  ctx.body = body;
}

function unescapeAttr(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The action and CSRF value of a form oidc-provider built, so the page can render its own accessible form. */
function formFields(form: string): { action: string; xsrf: string } {
  return {
    action: unescapeAttr(/action="([^"]*)"/.exec(form)?.[1] ?? ''),
    xsrf: unescapeAttr(/name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? ''),
  };
}

type GrantLike = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/**
 * Consent is remembered: a first-party client is granted what it asks for without a page, and
 * any other client gets a fresh grant carrying what the user consented to in an earlier session.
 * Grants stay per session, so ending one session never revokes another's tokens.
 */
function loadExistingGrant(parts: ProviderParts) {
  return async (ctx: KoaContextWithOIDC): Promise<GrantLike | undefined> => {
    const { oidc } = ctx;
    const client = policyClient(ctx)!;
    const accountId = oidc.session!.accountId!;
    const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (client.first_party) {
      grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
      const scopes = [...oidc.requestParamOIDCScopes].join(' ');
      if (scopes) grant.addOIDCScope(scopes);
      const claims = [...oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, rs] of Object.entries(oidc.resourceServers ?? {})) {
        const rsScopes = [...oidc.requestParamScopes].filter((s) =>
          (rs as { scopes: Set<string> }).scopes.has(s),
        );
        if (rsScopes.length) grant.addResourceScope(indicator, rsScopes.join(' '));
      }
      await grant.save();
      return grant;
    }
    if (grant) return grant;
    const previous = await parts.previousGrant(accountId, client.clientId);
    if (!previous) return undefined;
    grant = new oidc.provider.Grant({ accountId, clientId: client.clientId });
    const openid = previous.openid as { scope?: string; claims?: string[] } | undefined;
    if (openid?.scope) grant.addOIDCScope(openid.scope);
    if (openid?.claims?.length) grant.addOIDCClaims(openid.claims);
    const resources = (previous.resources ?? {}) as Record<string, string>;
    for (const [indicator, scope] of Object.entries(resources))
      grant.addResourceScope(indicator, scope);
    await grant.save();
    return grant;
  };
}

/**
 * oidc-provider's device pages render an error (a POST without a session cookie, GET
 * /device/<unknown>) after its session middleware has finished, yet give a brand-new session a
 * form secret there; its last step then refuses to re-save a session that was never saved, and
 * the answer became a plain 500. Such a session is saved here, as the middleware would have,
 * so the form on the error page works too.
 */
async function keepNewSession(
  ctx: KoaContextWithOIDC,
  cookie: Record<string, unknown>,
  ttl: number,
): Promise<void> {
  const session = ctx.oidc.session as
    | (KoaContextWithOIDC['oidc']['session'] & {
        id: string;
        touched?: boolean;
        destroyed?: boolean;
      })
    | undefined;
  if (!session?.touched || session.destroyed || typeof session.exp === 'number') return;
  ctx.oidc.cookies.set(ctx.oidc.provider.cookieName('session'), session.id, cookie);
  await session.save(ttl);
}

const SHORT_COOKIE = { signed: true, httpOnly: true, sameSite: 'lax' as const };

/**
 * The options of the provider's session cookie. Tenants share the host: the session cookie
 * stays under the tenant's path. The short-lived interaction cookies already get narrower ones
 * (/<tenant>/interaction/<uid>, /<tenant>/authorize/<uid>), so two sign-ins in two tabs do not
 * overwrite each other.
 */
export function sessionCookieOptions(issuer: string) {
  return { ...SHORT_COOKIE, path: new URL(issuer).pathname };
}

/** Everything one tenant's Provider is configured with. */
export function buildProviderConfiguration(parts: ProviderParts): Configuration {
  const s = parts.settings;
  const branding = brandingOf(parts.tenantId, s);
  const pages = parts.pages;
  const issuerPath = new URL(parts.issuer).pathname;
  const short = SHORT_COOKIE;
  const long = sessionCookieOptions(parts.issuer);

  return {
    adapter: parts.adapter,
    jwks: parts.jwks,
    // A client's jwks_uri is fetched: https, public addresses only (checked on the connection's
    // own DNS answer), no redirects, a 2.5 s timeout and a size cap (common/outbound-url.ts).
    fetch: guardedFetch(parts.outbound),
    fetchResponseBodyLimits: {
      jwks_uri: MAX_FETCHED_BYTES,
      sector_identifier_uri: MAX_FETCHED_BYTES,
      'client_id metadata document': 5 * 1024,
    },
    findAccount: parts.findAccount,
    claims: { acr: null, amr: null, sid: null, auth_time: null, iss: null, ...CLAIMS_BY_SCOPE },
    acrValues: [...ACR_LEVELS],
    // RFC 8414 / OIDC Discovery: where clients (MCP clients, agents) register when allowed.
    // oidc-provider 9 has no Front-Channel Logout; the logout page renders its iframes
    // (front-channel-logout.ts).
    discovery: {
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
      ...(s.dynamic_registration?.enabled
        ? { registration_endpoint: `${parts.issuer}/register` }
        : {}),
    },
    scopes: PROVIDER_SCOPES,
    // The seed's authorize takes email_hint beside login_hint; both pre-fill the sign-in page.
    extraParams: ['email_hint'],
    extraTokenClaims: authTimeClaim,
    // Apps read profile, email, roles and groups from the ID token too (most RPs expect that).
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    pkce: {
      required: (_ctx, client) =>
        client.clientAuthMethod === 'none' ||
        (client as unknown as PolicyClient).client_type === 'public',
    },
    cookies: { keys: parts.cookieKeys, long, short },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      revocation: '/revoke',
      introspection: '/introspect',
      end_session: '/logout',
      jwks: '/jwks',
      pushed_authorization_request: '/request',
      code_verification: '/device',
      device_authorization: '/device/auth',
    },
    extraClientMetadata: { properties: CLIENT_POLICY_PROPERTIES, validator: () => undefined },
    interactions: {
      policy: buildPolicy(parts),
      url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    loadExistingGrant: loadExistingGrant(parts),
    // Rotation on every use: the provider marks the old token consumed, and presenting a consumed
    // token again revokes the whole grant (every access and refresh token issued from it).
    rotateRefreshToken: true,
    // Refresh tokens for every client allowed the grant type; without offline_access they end
    // with the session (expiresWithSession), with it they outlive the browser session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? s.access_token_ttl,
      ClientCredentials: (_ctx, token) =>
        token.resourceServer?.accessTokenTTL ?? s.access_token_ttl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      IdToken: s.id_token_ttl,
      RefreshToken: s.refresh_token_ttl,
      Session: s.session_ttl,
      // A grant (one sign-in of one client) bounds every token issued from it.
      Grant: Math.max(s.refresh_token_ttl, s.session_ttl),
      Interaction: 3600,
    },
    clientBasedCORS: (_ctx, origin, client) =>
      origin !== 'null' &&
      ((client as unknown as PolicyClient).redirectUris ?? []).some(
        (uri) => URL.parse(uri)?.origin === origin,
      ),
    renderError: async (ctx, out) => {
      html(ctx, pages, pages.error(branding, out.error, out.error_description));
    },
    features: {
      devInteractions: { enabled: false },
      // Metadata, discovery and sid in ID tokens; the sending is ours (logout-propagation.ts):
      // in the background with retries, never holding up the user's logout.
      backchannelLogout: { enabled: true },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Public clients may only look at their own tokens; confidential ones (resource servers) at any of the tenant's.
        allowedPolicy: async (ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: async (ctx, form, _out, err) => {
          await keepNewSession(ctx, long, s.session_ttl);
          const { action, xsrf } = formFields(form);
          let error: string | undefined;
          if (err && ((err as { userCode?: string }).userCode || err.name === 'NoCodeError')) {
            error = 'That code is not valid or has expired. Check the code and try again.';
          } else if (err?.name === 'AbortedError') {
            error = 'The sign-in request was cancelled.';
          } else if (err && (err as { allow_redirect?: boolean }).allow_redirect === false) {
            // Our own refusals (locked client, user outside the allowed groups) say why.
            error = (err as { error_description?: string }).error_description;
          } else if (err) {
            error = 'The request could not be completed. Try again.';
          }
          html(ctx, pages, pages.deviceInput(branding, { action, xsrf, error }));
        },
        userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
          const { action, xsrf } = formFields(form);
          html(
            ctx,
            pages,
            pages.deviceConfirm(branding, {
              action,
              xsrf,
              userCode,
              client: clientDisplay(client as unknown as PolicyClient),
            }),
          );
        },
        successSource: async (ctx) => {
          html(
            ctx,
            pages,
            pages.message(
              branding,
              'Device connected',
              'You are signed in. You can close this page and go back to your device.',
            ),
          );
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const { action, xsrf } = formFields(form);
          html(
            ctx,
            pages,
            pages.logout(branding, { action, xsrf, client: clientDisplay(policyClient(ctx)) }),
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          html(
            ctx,
            pages,
            pages.message(branding, 'Signed out', `You are signed out of ${s.display_name}.`),
          );
        },
      },
      pushedAuthorizationRequests: { enabled: true },
      userinfo: { enabled: true },
      // client_credentials tokens are JWTs for the tenant itself (audience = issuer), so an API
      // can verify them offline against the JWKS. Tokens of a user sign-in stay opaque (userinfo,
      // introspection) unless the request names the resource.
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, _client, oneOf) => {
          if (oneOf) return oneOf;
          const grantType = (ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type;
          return ctx.oidc.route === 'token' && grantType === 'client_credentials'
            ? parts.issuer
            : undefined;
        },
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx, resource, client) => {
          if (resource !== parts.issuer) throw new errors.InvalidTarget();
          return {
            scope: ((client as unknown as PolicyClient).api_scopes ?? []).join(' '),
            audience: parts.issuer,
            accessTokenTTL: s.access_token_ttl,
            accessTokenFormat: 'jwt',
            // Signed like the client's ID tokens: EdDSA and ES256 cost a fraction of RS256.
            jwt: {
              sign: {
                alg:
                  (client as { idTokenSignedResponseAlg?: string }).idTokenSignedResponseAlg ??
                  'RS256',
              },
            },
          };
        },
      },
    },
  } as Configuration;
}
