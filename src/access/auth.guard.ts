import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { PlatformBlocker } from '../blocker/platform-blocker.service.js';
import { forbidden, notFound, unauthorized } from '../common/problem.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { ACCESS_POLICY, type AccessPolicy } from '../auth/auth.decorators.js';
import { hasScope, type Principal } from '../auth/scopes.js';
import { UserTokens } from './user-tokens.js';

export type AuthedRequest = FastifyRequest & { principal?: Principal };

function presentedCredential(req: FastifyRequest): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey.trim();
  const authz = req.headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    if (!m) throw unauthorized('Use "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    return m[1];
  }
  return undefined;
}

/**
 * Deny by default: a route passes only if it declares an access policy. Order matters: the
 * tenant in the path is checked before the scope, so a key of tenant A asking for anything of
 * tenant B gets 404 whatever its scopes, and tenant ids cannot be probed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly tenants: TenantsService,
    private readonly apiKeyFailures: PlatformBlocker,
    private readonly userTokens: UserTokens,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!policy) throw forbidden('This route declares no access policy');
    if (policy.public) return true;

    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const credential = presentedCredential(req);
    if (!credential) throw unauthorized('Authentication required: send an API key');
    if (credential.length > 512) throw unauthorized('The API key is missing, unknown or revoked');
    const tenantId = (req.params as Record<string, string> | undefined)?.tenant_id;
    const holders = policy.holders ?? ['operator', 'tenant'];
    // On self-service routes the user's own access token stands for the user (user-tokens.ts);
    // anything that is not one of the tenant's live tokens is tried as an API key, and failed
    // keys count per IP across the platform (a blocked address gets 429 here).
    const principal =
      (tenantId !== undefined &&
      tenantId.length <= 63 &&
      holders.includes('user') &&
      UserTokens.mayBe(credential)
        ? await this.userTokens.authenticate(tenantId, credential)
        : undefined) ??
      (await this.apiKeyFailures.guardApiKey(req.ip, () => this.apiKeys.authenticate(credential)));
    req.principal = principal;

    if (tenantId !== undefined) {
      if (principal.tenantId !== null && principal.tenantId !== tenantId) throw notFound('Tenant');
      if (tenantId.length > 63) throw notFound('Tenant');
      if (!(await this.tenants.exists(tenantId))) throw notFound('Tenant');
    }

    if (!holders.includes(principal.holder)) {
      throw forbidden(`This route is not open to ${principal.holder} keys`);
    }
    if (policy.recentAuth) this.userTokens.assertRecent(principal);
    if (policy.scope && !hasScope(principal, policy.scope)) {
      throw forbidden(`This route requires the scope ${policy.scope}`);
    }
    return true;
  }
}
