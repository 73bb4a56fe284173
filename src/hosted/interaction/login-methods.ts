import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../../audit/audit.service.js';
import type { TenantSettings } from '../../tenants/tenant-settings.js';

export type Settings = TenantSettings & { display_name: string };

/** What a method needs to draw its part of the login page. */
export interface LoginMethodView {
  tenantId: string;
  uid: string;
  /** Where the method's form posts to (the interaction's login route). */
  action: string;
  csrf: string;
  loginHint?: string;
  settings: Settings;
}

export type LoginOutcome =
  | { status: 'success'; accountId: string; amr: string[] }
  /**
   * Shown on the login page again; the same message whatever was wrong (no enumeration).
   * `accountId` (when the user exists) is for the audit log only, never for the page.
   */
  | { status: 'failed'; message: string; accountId?: string }
  /** The credentials were right but the account may not sign in: an error page, no retry. */
  | { status: 'refused'; description: string; accountId: string };

/**
 * A way to sign in (password today; passkeys, TOTP and PIN plug in the same way). The login
 * page shows every method the tenant's policy enables, in registration order; a post names its
 * method in the `method` field and that method alone reads the rest of the form.
 */
export interface LoginMethod {
  readonly id: string;
  /** What a failed or blocked attempt shows: one message, whatever the reason. */
  readonly failureMessage: string;
  /**
   * The method records its attempts in the brute-force blocker itself (from `ctx`); the login
   * still checks the blocker first and audits, but counts nothing twice.
   */
  readonly guardsItself?: boolean;
  /**
   * The method's form goes to its own step pages (a mailed code: EmailCodeStep), never to the
   * login post; its section on the login page links there.
   */
  readonly ownStep?: boolean;
  /** The method's page runs WebAssembly (the PIN/pattern OPAQUE client): its CSP allows it. */
  readonly scripts?: 'wasm';
  enabled(settings: Settings): boolean;
  /** The login as typed (username or email), counted by the brute-force blocker; none if the method has no such field. */
  loginName(form: Record<string, string>): string | undefined;
  render(view: LoginMethodView): string;
  authenticate(
    tenantId: string,
    form: Record<string, string>,
    settings: Settings,
    ctx?: AuditContext,
    /** The interaction the attempt belongs to (a PIN/pattern nonce is bound to it). */
    uid?: string,
  ): Promise<LoginOutcome>;
}

@Injectable()
export class LoginMethods {
  private readonly methods: LoginMethod[] = [];

  /** Other modules register their methods at init (e.g. a passkeys module). */
  register(method: LoginMethod) {
    if (this.methods.some((m) => m.id === method.id)) {
      throw new Error(`login method ${method.id} is already registered`);
    }
    this.methods.push(method);
  }

  forTenant(settings: Settings): LoginMethod[] {
    return this.methods.filter((m) => m.enabled(settings));
  }

  find(settings: Settings, id: unknown): LoginMethod | undefined {
    return this.forTenant(settings).find((m) => m.id === id);
  }
}
