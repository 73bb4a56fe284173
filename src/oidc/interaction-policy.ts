import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { acrRank, requestedAcrRank } from './auth-context.js';
import type { PolicyClient, ProviderParts } from './provider-config.js';

export function policyClient(ctx: KoaContextWithOIDC): PolicyClient | undefined {
  return ctx.oidc.client as unknown as PolicyClient | undefined;
}

/** An OAuth error shown on the error page instead of being sent to the client's redirect URI. */
export function refusal(description: string): errors.OIDCProviderError {
  const err = new errors.AccessDenied(description);
  err.allow_redirect = false;
  err.status = 403;
  err.statusCode = 403;
  return err;
}

/**
 * The interaction policy: oidc-provider's login and consent prompts, with one extra check at
 * the head of the login prompt that refuses locked clients and users outside the groups a
 * restricted client allows. It runs on every authorization, resume and device request, so a
 * silent (prompt=none) request with a live session is refused too.
 */
export function buildPolicy(parts: ProviderParts) {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.unshift(
    new interactionPolicy.Check(
      'client_access',
      'the end-user may not use this client',
      async (ctx: KoaContextWithOIDC) => {
        const client = policyClient(ctx);
        if (!client) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        if (client.is_lock) {
          throw refusal('This application is locked: new sign-ins are not accepted.');
        }
        // A client holding API scopes only has no `scope` metadata (see ClientAdapter), which
        // oidc-provider reads as "any scope": it may not ask for OpenID scopes at all.
        const asked = [...ctx.oidc.requestParamOIDCScopes];
        if (!client.scope && asked.length) {
          throw new errors.InvalidScope('requested scope is not allowed', asked[0]);
        }
        const accountId = ctx.oidc.session?.accountId;
        // A session whose user is gone or disabled authenticates nobody: ask for a new login.
        if (accountId && !ctx.oidc.account) return interactionPolicy.Check.REQUEST_PROMPT;
        if (
          accountId &&
          client.is_group_restricted &&
          !(await parts.mayUseClient(accountId, client))
        ) {
          throw refusal('Your account is not allowed to use this application.');
        }
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
    // Step-up: a request for a higher acr than the session reached signs in again, where the
    // user's second factor (or a passkey) is asked. Right after a sign-in the session's level
    // stands, whatever it is: the client reads `acr` and decides (no loop of sign-ins).
    new interactionPolicy.Check(
      'acr_step_up',
      'the requested authentication level is above the session',
      (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        if (!oidc.session?.accountId || oidc.result?.login) {
          return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        }
        const wanted = requestedAcrRank(
          oidc.params?.acr_values,
          oidc.claims?.id_token?.acr ?? undefined,
        );
        return wanted !== undefined && acrRank(oidc.acr) < wanted
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  // Levels are ordered (auth-context.ts): the exact-match essential acr checks would refuse a
  // passkey session to a client asking for mfa. acr_step_up covers them.
  for (const exact of ['essential_acr', 'essential_acrs']) {
    const at = login.checks.findIndex((c) => c.reason === exact);
    if (at >= 0) login.checks.splice(at, 1);
  }
  return policy;
}
