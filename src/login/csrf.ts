import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../libs/crypto/index.js';
import { deriveTenantKey } from '../oidc/tenant-secrets.js';

/**
 * CSRF tokens of the hosted pages: an HMAC of the interaction uid under a per-tenant key. A
 * form only works for the interaction it was rendered for, and the interaction itself is bound
 * to the browser by oidc-provider's signed interaction cookie, so a page of another browser
 * (an attacker's own interaction) cannot be posted into this one.
 */
export class InteractionCsrf {
  constructor(private readonly masterKey: Buffer) {}

  token(tenantId: string, uid: string): string {
    return createHmac('sha256', deriveTenantKey(this.masterKey, tenantId, 'login-csrf'))
      .update(uid)
      .digest('base64url');
  }

  verify(tenantId: string, uid: string, presented: unknown): boolean {
    return typeof presented === 'string' && constantTimeEqual(presented, this.token(tenantId, uid));
  }
}
