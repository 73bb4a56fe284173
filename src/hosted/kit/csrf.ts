import { createHmac } from 'node:crypto';
import {
  constantTimeEqual,
  deriveTenantKey,
  type TenantKeyPurpose,
} from '../../../libs/crypto/index.js';

/**
 * CSRF tokens of the hosted pages: an HMAC of the interaction uid under a per-tenant key. A
 * form only works for the interaction it was rendered for, and the interaction itself is bound
 * to the browser by oidc-provider's signed interaction cookie, so a page of another browser
 * (an attacker's own interaction) cannot be posted into this one.
 */
export class InteractionCsrf {
  constructor(private readonly masterKey: Buffer) {}

  token(tenantId: string, uid: string): string {
    return createHmac(
      'sha256',
      deriveTenantKey(this.masterKey, { tenantId, purpose: 'login-csrf' }),
    )
      .update(uid)
      .digest('base64url');
  }

  verify(tenantId: string, uid: string, presented: unknown): boolean {
    return typeof presented === 'string' && constantTimeEqual(presented, this.token(tenantId, uid));
  }
}

/** Reads one cookie of a request (no cookie plugin is registered on the server). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * CSRF for hosted pages outside an interaction (password reset): a double-submit token, the
 * HMAC of a random per-browser cookie under a per-tenant key. A page of another site can
 * neither read the cookie nor forge the HMAC.
 */
export class BrowserCsrf {
  constructor(
    private readonly masterKey: Buffer,
    private readonly purpose: TenantKeyPurpose,
  ) {}

  token(tenantId: string, cookieValue: string): string {
    return createHmac(
      'sha256',
      deriveTenantKey(this.masterKey, { tenantId, purpose: this.purpose }),
    )
      .update(cookieValue)
      .digest('base64url');
  }

  verify(tenantId: string, cookieValue: string | undefined, presented: unknown): boolean {
    return (
      typeof cookieValue === 'string' &&
      cookieValue.length >= 16 &&
      typeof presented === 'string' &&
      constantTimeEqual(presented, this.token(tenantId, cookieValue))
    );
  }
}
