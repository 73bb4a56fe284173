import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { inject } from 'light-my-request';
import { isValidTenantId } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { OidcProviders, type TenantProvider } from '../oidc/oidc-providers.service.js';
import { authnProblem } from './headless-problems.js';

/** The authorisation parameters a custom UI starts a sign-in with. */
export interface StartParams {
  client_id: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string;
  code_challenge_method?: string;
  state?: string;
  nonce?: string;
  login_hint?: string;
  prompt?: string;
  max_age?: number;
}

/** Headers of the caller the provider may read (cookies: a live session; forwarded: its URLs). */
const PASSED_HEADERS = [
  'host',
  'cookie',
  'user-agent',
  'accept-language',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
];

export interface Started {
  /** The interaction the sign-in steps are bound to; absent when no sign-in is needed. */
  authReqId?: string;
  /** Where the browser goes when nothing is left to ask (a live session, or an error for the client). */
  location?: string;
  /** The provider's cookies (interaction and resume), for the caller's browser. */
  setCookie: string[];
}

const INTERACTION = /\/interaction\/([A-Za-z0-9_-]{1,64})$/;

/**
 * POST authn/start: the same authorisation request a browser would send to `/authorize`, run
 * through the tenant's own provider (every check of client, redirect URI, PKCE and scope is the
 * provider's), in process. Its interaction becomes the `auth_req_id`; its cookies go to the
 * caller, so the browser that finishes the sign-in is the one that started it.
 */
@Injectable()
export class HeadlessStart {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly providers: OidcProviders,
  ) {}

  async start(
    tenantId: string,
    params: StartParams,
    headers: IncomingHttpHeaders,
    ip: string | null,
    checkOrigin: (tenant: TenantProvider) => Promise<void>,
  ): Promise<Started> {
    const tenant = isValidTenantId(tenantId) ? await this.providers.get(tenantId) : undefined;
    if (!tenant) throw authnProblem('authn-request-not-found', 'Tenant not found');
    await checkOrigin(tenant);
    const query = new URLSearchParams({ response_type: 'code', code_challenge_method: 'S256' });
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) query.set(key, String(value));
    }
    const rest = `/authorize?${query.toString()}`;
    const basePath = new URL(this.config.publicUrl).pathname.replace(/\/$/, '');
    const passed: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = headers[name];
      if (typeof value === 'string') passed[name] = value;
    }
    const answer = await inject(
      (req, out) => {
        (req as { originalUrl?: string }).originalUrl = `${basePath}/${tenantId}${rest}`;
        req.url = rest;
        void tenant.handle(req, out);
      },
      { method: 'GET', url: rest, headers: passed, remoteAddress: ip ?? undefined },
    );
    const raw = answer.headers['set-cookie'];
    const setCookie = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
    const location =
      typeof answer.headers.location === 'string' ? answer.headers.location : undefined;
    if (answer.statusCode >= 300 && answer.statusCode < 400 && location) {
      const uid = INTERACTION.exec(new URL(location, 'http://x').pathname)?.[1];
      if (uid) return { authReqId: uid, setCookie };
      // Back to the client already: an error it should hear, or a live session's code.
      const redirect = new URL(location);
      const error = redirect.searchParams.get('error');
      if (error)
        throw authnProblem(
          'authn-authorize-refused',
          `${error}: ${redirect.searchParams.get('error_description') ?? 'refused'}`,
        );
      return { location, setCookie };
    }
    // The provider draws an error page when it cannot trust the redirect URI or the client.
    throw authnProblem(
      'authn-authorize-refused',
      'The authorisation request was refused: check client_id, redirect_uri, scope and PKCE',
    );
  }
}
