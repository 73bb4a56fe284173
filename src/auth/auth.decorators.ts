import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';
import { ApiProblems, PROBLEM_MEANING } from '../common/api-docs.js';
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
    ApiProblems(
      [401, PROBLEM_MEANING[401]],
      [
        403,
        (policy.scope ? `requires scope ${policy.scope}` : 'holder not allowed') +
          (policy.recentAuth ? "; the user's own token from a recent sign-in" : ''),
      ],
      [429, 'this address sent too many unknown credentials; retry after `Retry-After` seconds'],
    ),
  );
}

/** Self-service routes: user keys and the user's own access token (scopes me:*). */
export function Self(scope: 'me:read' | 'me:write' | 'me:credentials') {
  return Authenticated({ scope, holders: ['user'], recentAuth: scope === 'me:credentials' });
}

/** Swagger's operation metadata key: `security: []` must sit there, an empty ApiSecurity is dropped. */
const API_OPERATION = 'swagger/apiOperation';

/**
 * Marks an operation `security: []` (merged with `@ApiOperation`'s summary). On a class, every
 * route of it that declares no policy of its own.
 */
function markNoSecurity(method: object) {
  const prev = (Reflect.getMetadata(API_OPERATION, method) ?? {}) as object;
  Reflect.defineMetadata(API_OPERATION, { ...prev, security: [] }, method);
}

function noSecurity(target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) {
  if (descriptor) return markNoSecurity(descriptor.value as object);
  const proto = (target as { prototype: object }).prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
    if (name === 'constructor' || typeof method !== 'function') continue;
    if (!Reflect.getMetadata(ACCESS_POLICY, method)) markNoSecurity(method);
  }
}

/** No credential: the guard lets the call through and the document says `security: []`. */
export function Public() {
  return applyDecorators(
    SetMetadata(ACCESS_POLICY, { public: true } satisfies AccessPolicy),
    ApiExtension('x-required-scope', 'public'),
    noSecurity as ClassDecorator & MethodDecorator,
  );
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    return ctx.switchToHttp().getRequest<{ principal: Principal }>().principal;
  },
);
