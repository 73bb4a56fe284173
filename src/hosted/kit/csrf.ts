import { createHmac, randomBytes } from 'node:crypto';
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

/** A cookie of the hosted pages: HttpOnly, SameSite=Lax, scoped to the pages that read it. */
export function cookieHeader(
  name: string,
  value: string,
  o: { path: string; secure: boolean; maxAge?: number },
): string {
  const maxAge = o.maxAge === undefined ? '' : `; Max-Age=${o.maxAge}`;
  return `${name}=${value}; Path=${o.path}; HttpOnly; SameSite=Lax${maxAge}${o.secure ? '; Secure' : ''}`;
}

/**
 * CSRF for hosted pages outside an interaction: the HMAC, under a per-tenant key, of a value
 * only this browser has (the account page: its session's uid; mailed links and password reset:
 * the random cookie of DoubleSubmitCsrf). A page of another site can neither read the value nor
 * forge the HMAC.
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

const COOKIE_VALUE = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The double-submit CSRF of the plain browser forms (mailed links, password reset): the token
 * of a form is bound to a random cookie of the browser, read from the request or minted with
 * the page that carries the form.
 */
export class DoubleSubmitCsrf {
  private readonly hmac: BrowserCsrf;

  constructor(
    masterKey: Buffer,
    purpose: TenantKeyPurpose,
    private readonly cookie: string,
    private readonly secure: boolean,
  ) {
    this.hmac = new BrowserCsrf(masterKey, purpose);
  }

  /** The token for a form, and the Set-Cookie (Path `path`) when the browser has no cookie yet. */
  issue(
    tenantId: string,
    cookieHeaderIn: string | undefined,
    path: string,
  ): { token: string; setCookie?: string } {
    const existing = readCookie(cookieHeaderIn, this.cookie);
    if (existing && COOKIE_VALUE.test(existing))
      return { token: this.hmac.token(tenantId, existing) };
    const value = randomBytes(24).toString('base64url');
    return {
      token: this.hmac.token(tenantId, value),
      setCookie: cookieHeader(this.cookie, value, { path, secure: this.secure }),
    };
  }

  verify(tenantId: string, cookieHeaderIn: string | undefined, presented: unknown): boolean {
    return this.hmac.verify(tenantId, readCookie(cookieHeaderIn, this.cookie), presented);
  }
}
