import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import {
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Holder, Principal } from './scopes.js';

export const ACCESS_POLICY = 'idp:access-policy';

export interface AccessPolicy {
  public?: boolean;
  /** Scope the caller must hold; omitted: any authenticated caller of an allowed holder. */
  scope?: string;
  /** Holders allowed; default operator and tenant keys (user keys only where a route says so). */
  holders?: Holder[];
  /** Credential changes: only the user's own token from a recent sign-in (user-tokens.ts). */
  recentAuth?: boolean;
}

/**
 * Declares who may call a route and documents it: the guard enforces exactly what the OpenAPI
 * document shows, so the two cannot drift. A route with neither this nor @Public() is refused.
 */
export function Authenticated(policy: Omit<AccessPolicy, 'public'> = {}) {
  const scopes = policy.scope ? [policy.scope] : [];
  const holders = policy.holders ?? ['operator', 'tenant'];
  return applyDecorators(
    SetMetadata(ACCESS_POLICY, { ...policy, holders } satisfies AccessPolicy),
    ApiSecurity('api-key', scopes),
    ApiSecurity('bearer', scopes),
    ApiExtension('x-required-scope', policy.scope ?? null),
    ApiExtension('x-allowed-holders', holders),
    ...(policy.recentAuth ? [ApiExtension('x-recent-authentication', true)] : []),
    ApiUnauthorizedResponse({ description: 'missing, unknown or inactive credential' }),
    ApiForbiddenResponse({
      description:
        (policy.scope ? `requires scope ${policy.scope}` : 'holder not allowed') +
        (policy.recentAuth ? "; the user's own token from a recent sign-in" : ''),
    }),
  );
}

/** Self-service routes: user keys and the user's own access token (scopes me:*). */
export function Self(scope: 'me:read' | 'me:write' | 'me:credentials') {
  return Authenticated({ scope, holders: ['user'], recentAuth: scope === 'me:credentials' });
}

export function Public() {
  return applyDecorators(
    SetMetadata(ACCESS_POLICY, { public: true } satisfies AccessPolicy),
    ApiExtension('x-required-scope', 'public'),
  );
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
  },
);
