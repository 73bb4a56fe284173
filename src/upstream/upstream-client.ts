import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import * as oc from 'openid-client';
import { guardedClientFetch, type OutboundPolicy } from '../common/outbound-url.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { UpstreamProviderEntity } from './upstream-provider.entity.js';
import { UpstreamProvidersService } from './upstream-providers.service.js';

/** What a sign-in keeps between the redirect to the upstream and its return (never in clear). */
export interface UpstreamChecks {
  state: string;
  nonce?: string;
  verifier?: string;
}

/** The upstream's answer at the callback: its user's claims (ID token, then userinfo). */
export interface UpstreamIdentity {
  subject: string;
  claims: Record<string, unknown>;
  /** GitHub: the verified primary address from /user/emails. */
  verifiedEmail?: string;
}

/** A readable refusal from the upstream side: shown on a page, never a 500. */
export class UpstreamFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const DISCOVERY_TTL_MS = 5 * 60_000;
const TIMEOUT_SECONDS = 5;

/**
 * The relying-party side of a tenant's upstream identity providers, with openid-client:
 * discovery (cached per provider for a few minutes, keyed by what the admin set), PKCE, state
 * and nonce, the code exchange with the ID token checks (issuer, audience, expiry, nonce,
 * signature against the upstream JWKS), and userinfo. OAuth2 providers (GitHub) have fixed
 * endpoints and no ID token: their user API answers who it is. Every request to the upstream
 * goes through the outbound URL rules (https, no internal addresses, timeouts, size cap).
 */
@Injectable()
export class UpstreamClient {
  private readonly configs = new LRUCache<string, Promise<oc.Configuration>>({
    max: 500,
    ttl: DISCOVERY_TTL_MS,
  });
  private readonly outbound: OutboundPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: UpstreamProvidersService,
  ) {
    this.outbound = { allowPrivate: config.outboundAllowPrivate };
  }

  private fingerprint(row: UpstreamProviderEntity): string {
    const parts = [
      row.kind,
      row.issuer,
      row.authorization_endpoint,
      row.token_endpoint,
      row.userinfo_endpoint,
      row.client_id,
      row.client_secret_sealed,
    ];
    return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
  }

  /** The provider's openid-client configuration (discovered for OIDC), cached briefly. */
  configuration(row: UpstreamProviderEntity): Promise<oc.Configuration> {
    const key = `${row.tenant_id}:${row.provider_id}:${this.fingerprint(row)}`;
    let config = this.configs.get(key);
    if (!config) {
      config = this.build(row);
      // A failed discovery is not cached: the next sign-in tries again.
      config.catch(() => this.configs.delete(key));
      this.configs.set(key, config);
    }
    return config;
  }

  private async build(row: UpstreamProviderEntity): Promise<oc.Configuration> {
    const secret = this.providers.openSecret(row);
    const auth = secret ? oc.ClientSecretPost(secret) : oc.None();
    const fetcher = guardedClientFetch(this.outbound) as unknown as oc.CustomFetch;
    const execute = this.outbound.allowPrivate ? [oc.allowInsecureRequests] : [];
    let config: oc.Configuration;
    if (row.kind === 'oidc') {
      if (!row.issuer) throw new UpstreamFailure('server_error', 'The provider has no issuer.');
      try {
        config = await oc.discovery(new URL(row.issuer), row.client_id, undefined, auth, {
          execute,
          timeout: TIMEOUT_SECONDS,
          [oc.customFetch]: fetcher,
        });
      } catch {
        throw new UpstreamFailure(
          'temporarily_unavailable',
          `The sign-in service could not be reached. Try again later.`,
          502,
        );
      }
      // The ID token's signature too, against the upstream's JWKS (not only its claims).
      oc.enableNonRepudiationChecks(config);
    } else {
      if (!row.authorization_endpoint || !row.token_endpoint)
        throw new UpstreamFailure('server_error', 'The provider has no endpoints.');
      config = new oc.Configuration(
        {
          issuer: new URL(row.authorization_endpoint).origin,
          authorization_endpoint: row.authorization_endpoint,
          token_endpoint: row.token_endpoint,
          ...(row.userinfo_endpoint ? { userinfo_endpoint: row.userinfo_endpoint } : {}),
        },
        row.client_id,
        undefined,
        auth,
      );
      for (const run of execute) run(config);
      config[oc.customFetch] = fetcher;
    }
    config.timeout = TIMEOUT_SECONDS;
    return config;
  }

  /** The URL that sends the browser to the upstream, with fresh state, nonce and PKCE. */
  async authorizationUrl(
    row: UpstreamProviderEntity,
    redirectUri: string,
    loginHint?: string,
  ): Promise<{ url: URL; checks: UpstreamChecks }> {
    const config = await this.configuration(row);
    const checks: UpstreamChecks = { state: oc.randomState() };
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: row.scopes.join(' '),
      state: checks.state,
    };
    if (row.kind === 'oidc') params.nonce = checks.nonce = oc.randomNonce();
    if (row.pkce) {
      checks.verifier = oc.randomPKCECodeVerifier();
      params.code_challenge = await oc.calculatePKCECodeChallenge(checks.verifier);
      params.code_challenge_method = 'S256';
    }
    if (row.response_mode === 'form_post') params.response_mode = 'form_post';
    if (loginHint) params.login_hint = loginHint;
    return { url: oc.buildAuthorizationUrl(config, params), checks };
  }

  /**
   * The callback: the upstream's error, or the code exchanged (state, PKCE, nonce and the ID
   * token checked by openid-client) and the user's claims.
   */
  async callback(
    row: UpstreamProviderEntity,
    redirectUri: string,
    params: URLSearchParams,
    checks: UpstreamChecks,
  ): Promise<UpstreamIdentity> {
    const config = await this.configuration(row);
    const current = new URL(redirectUri);
    current.search = params.toString();
    let tokens: Awaited<ReturnType<typeof oc.authorizationCodeGrant>>;
    try {
      tokens = await oc.authorizationCodeGrant(
        config,
        current,
        {
          expectedState: checks.state,
          ...(checks.nonce ? { expectedNonce: checks.nonce } : {}),
          ...(checks.verifier ? { pkceCodeVerifier: checks.verifier } : {}),
          idTokenExpected: row.kind === 'oidc',
        },
        { redirect_uri: redirectUri },
      );
    } catch (err) {
      throw failureOf(err);
    }
    if (row.kind === 'oidc') {
      const idClaims = tokens.claims();
      if (!idClaims) throw new UpstreamFailure('invalid_token', 'The provider sent no ID token.');
      const claims: Record<string, unknown> = {};
      if (config.serverMetadata().userinfo_endpoint) {
        try {
          Object.assign(claims, await oc.fetchUserInfo(config, tokens.access_token, idClaims.sub));
        } catch (err) {
          throw failureOf(err);
        }
      }
      // The ID token's claims win: they are signed and checked.
      Object.assign(claims, idClaims);
      return { subject: idClaims.sub, claims };
    }
    return this.oauth2Identity(row, config, tokens.access_token);
  }

  /** OAuth2 (GitHub): the user API's answer; GitHub's verified primary address from /user/emails. */
  private async oauth2Identity(
    row: UpstreamProviderEntity,
    config: oc.Configuration,
    accessToken: string,
  ): Promise<UpstreamIdentity> {
    const get = async (url: string) => {
      const headers = new Headers({ accept: 'application/json', 'user-agent': 'idp' });
      let res: Response;
      try {
        res = await oc.fetchProtectedResource(
          config,
          accessToken,
          new URL(url),
          'GET',
          undefined,
          headers,
        );
      } catch (err) {
        throw failureOf(err);
      }
      if (!res.ok)
        throw new UpstreamFailure(
          'invalid_response',
          `The provider's user API answered ${res.status}.`,
          502,
        );
      return (await res.json()) as unknown;
    };
    if (!row.userinfo_endpoint)
      throw new UpstreamFailure('server_error', 'The provider has no user endpoint.');
    const claims = (await get(row.userinfo_endpoint)) as Record<string, unknown>;
    const rawSubject = claims[row.claim_mapping?.subject ?? 'id'] ?? claims.sub;
    if (
      (typeof rawSubject !== 'string' && typeof rawSubject !== 'number') ||
      String(rawSubject) === ''
    )
      throw new UpstreamFailure(
        'invalid_response',
        'The provider did not say who the user is.',
        502,
      );
    let verifiedEmail: string | undefined;
    if (row.preset === 'github') {
      // GitHub's addresses sit beside its user API: https://api.github.com/user/emails.
      const emailsUrl = new URL('emails', `${row.userinfo_endpoint.replace(/\/+$/, '')}/`).href;
      const emails = (await get(emailsUrl)) as Array<Record<string, unknown>>;
      const primary = Array.isArray(emails)
        ? emails.find((e) => e.primary === true && e.verified === true)
        : undefined;
      if (typeof primary?.email === 'string') verifiedEmail = primary.email;
    }
    return { subject: String(rawSubject), claims, verifiedEmail };
  }
}

/** openid-client's errors as a readable failure: the upstream's own error, or what was wrong. */
export function failureOf(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof oc.AuthorizationResponseError) {
    return new UpstreamFailure(
      err.error,
      err.error_description ?? `The sign-in service answered ${err.error}.`,
    );
  }
  if (err instanceof oc.ResponseBodyError) {
    return new UpstreamFailure(
      err.error,
      err.error_description ?? `The sign-in service refused: ${err.error}.`,
    );
  }
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && code.startsWith('OAUTH_')) {
    // oauth4webapi names the claim or parameter that failed (nonce, iss, aud, state...).
    type Cause = { claim?: unknown; attribute?: unknown; parameter?: unknown; cause?: Cause };
    let cause = (err as { cause?: Cause }).cause;
    // openid-client wraps oauth4webapi's error, whose cause names the value.
    if (cause?.cause && cause.claim === undefined) cause = cause.cause;
    const what = cause?.claim ?? cause?.attribute ?? cause?.parameter;
    return new UpstreamFailure(
      'invalid_response',
      `The answer of the sign-in service was refused: ${message}${typeof what === 'string' ? ` (${what})` : ''}`,
    );
  }
  return new UpstreamFailure(
    'temporarily_unavailable',
    'The sign-in service could not be reached. Try again later.',
    502,
  );
}
