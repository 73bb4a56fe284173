import { Inject, Injectable } from '@nestjs/common';
import { ProblemException } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { OidcPayloadStore } from '../oidc/oidc-payload.store.js';
import { ACCOUNT_TOKEN_SCOPES, type Principal } from '../auth/scopes.js';

/** oidc-provider's opaque token values: base64url, 43 characters by default. */
const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;

/**
 * The user's own access token, issued by the tenant's provider to an app that asked for the
 * OIDC scope `account` (and `account:credentials`), as a principal of the self-service API.
 * Looked up in the tenant's payload store in one statement with its grant, session and user:
 * an expired, revoked (grant gone), logged-out (session-bound, session gone) or other tenant's
 * token, or one of a disabled or deleted user, is not a principal.
 */
@Injectable()
export class UserTokens {
  constructor(
    private readonly store: OidcPayloadStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Looks like an opaque access token rather than an API key (`idp_…`). */
  static mayBe(value: string): boolean {
    return !value.startsWith('idp_') && OPAQUE_TOKEN.test(value);
  }

  async authenticate(tenantId: string, value: string): Promise<Principal | undefined> {
    const found = await this.store.find(tenantId, 'AccessToken', value);
    const token = found.payload;
    if (!token || (token.format !== undefined && token.format !== 'opaque')) return undefined;
    if (typeof token.exp !== 'number' || token.exp * 1000 <= Date.now()) return undefined;
    if (typeof token.accountId !== 'string' || !found.grant?.payload) return undefined;
    if (token.expiresWithSession === true && !found.session?.payload) return undefined;
    const user = found.account?.user;
    if (!user || user.is_disabled) return undefined;

    const scopes = new Set<string>();
    for (const s of String(token.scope ?? '').split(' ')) {
      if (!Object.hasOwn(ACCOUNT_TOKEN_SCOPES, s)) continue;
      for (const granted of ACCOUNT_TOKEN_SCOPES[s]) scopes.add(granted);
    }
    const extra = token.extra as { auth_time?: unknown } | undefined;
    return {
      holder: 'user',
      // The grant, not the token: the value itself never reaches a log.
      credentialId: `grant:${found.grant.id}`,
      tenantId,
      userId: token.accountId,
      scopes,
      via: 'token',
      authTime: typeof extra?.auth_time === 'number' ? extra.auth_time : undefined,
      sessionUid:
        found.session?.uid ?? (typeof token.sessionUid === 'string' ? token.sessionUid : undefined),
    };
  }

  /**
   * Credential changes need the user's own sign-in from the last RECENT_AUTH_SECONDS: an
   * admin-minted user key, or a stolen long-lived token, does not enrol a passkey.
   */
  assertRecent(principal: Principal): void {
    const recent =
      principal.via === 'token' &&
      principal.authTime !== undefined &&
      Date.now() / 1000 - principal.authTime <= this.config.recentAuthSeconds;
    if (recent) return;
    throw new ProblemException(
      403,
      'recent-authentication-required',
      'Recent authentication required',
      principal.via === 'token'
        ? `Sign in again: this change needs a sign-in from the last ${this.config.recentAuthSeconds} seconds`
        : "This change needs the user's own access token from a recent sign-in (OIDC scope account:credentials); an API key cannot make it",
    );
  }
}
