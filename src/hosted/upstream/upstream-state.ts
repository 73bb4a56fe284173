import { createHash } from 'node:crypto';
import { SecretBox } from '../../../libs/crypto/index.js';
import type { UpstreamChecks } from '../../upstream/upstream-client.js';
import { readCookie } from '../kit/csrf.js';

/**
 * What an upstream round trip keeps while the browser is away (state, nonce, PKCE verifier, and
 * what it is for): a cookie sealed with the master key, bound to the tenant and the provider,
 * named after the state (cookieName), ten minutes long, scoped to
 * `/<tenant>/upstream/<provider>` and cleared at the callback. The
 * browser that comes back must be the one that left (login CSRF), and nothing is stored.
 */
export type UpstreamPurpose =
  /** A sign-in of an OIDC interaction (its uid). */
  | { mode: 'sign-in'; uid: string }
  /** The account page: the signed-in user connects this provider (user and session). */
  | { mode: 'link'; userId: string; sessionId: string };

export type UpstreamFlowState = UpstreamChecks & UpstreamPurpose & { expires: number };

export const UPSTREAM_COOKIE = 'idp_upstream';

/**
 * One cookie per round trip, named after its state (a hash prefix: the state itself stays out
 * of the name), so two sign-ins through one provider in two tabs do not overwrite each other.
 */
export function cookieName(state: string): string {
  return `${UPSTREAM_COOKIE}_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}
const TTL_MS = 10 * 60_000;

/** The result of a callback, handed to the interaction's own route (sealed, two minutes). */
export interface UpstreamResult {
  accountId: string;
  providerId: string;
  /** The provider's second_factor is `skip`: the upstream sign-in is enough. */
  skipSecondFactor: boolean;
  expires: number;
}

export class UpstreamStates {
  private readonly box: SecretBox;

  constructor(
    masterKey: Buffer,
    private readonly secure: boolean,
  ) {
    this.box = new SecretBox(masterKey);
  }

  private aad(tenantId: string, providerId: string) {
    return `upstream-flow:${tenantId}:${providerId}`;
  }

  /**
   * The Set-Cookie of a new round trip. SameSite=Lax carries it on the upstream's redirect back
   * (a top-level GET); a `form_post` return is a cross-site POST, which only SameSite=None
   * (https) carries.
   */
  cookie(
    tenantId: string,
    providerId: string,
    path: string,
    state: UpstreamChecks & UpstreamPurpose,
    formPost: boolean,
  ): string {
    const full: UpstreamFlowState = { ...state, expires: Date.now() + TTL_MS };
    const value = this.box.seal(JSON.stringify(full), this.aad(tenantId, providerId));
    const sameSite = formPost && this.secure ? 'None' : 'Lax';
    return `${cookieName(state.state)}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}; Max-Age=${TTL_MS / 1000}${this.secure ? '; Secure' : ''}`;
  }

  clear(path: string, state: string): string {
    return `${cookieName(state)}=; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=0${this.secure ? '; Secure' : ''}`;
  }

  /**
   * The round trip of this browser that left with `state`, when genuine, of this tenant and
   * provider, unexpired, and sealed with that very state.
   */
  open(
    tenantId: string,
    providerId: string,
    state: string,
    cookieHeader: string | undefined,
  ): UpstreamFlowState | undefined {
    const value = readCookie(cookieHeader, cookieName(state));
    if (!value || value.length > 4096) return undefined;
    try {
      const flow = JSON.parse(
        this.box.openString(value, this.aad(tenantId, providerId)),
      ) as UpstreamFlowState;
      return flow.expires > Date.now() && flow.state === state ? flow : undefined;
    } catch {
      return undefined;
    }
  }

  sealResult(tenantId: string, uid: string, r: Omit<UpstreamResult, 'expires'>): string {
    const full: UpstreamResult = { ...r, expires: Date.now() + 120_000 };
    return this.box.seal(JSON.stringify(full), `upstream-result:${tenantId}:${uid}`);
  }

  openResult(tenantId: string, uid: string, value: unknown): UpstreamResult | undefined {
    if (typeof value !== 'string' || !value || value.length > 4096) return undefined;
    try {
      const r = JSON.parse(
        this.box.openString(value, `upstream-result:${tenantId}:${uid}`),
      ) as UpstreamResult;
      return r.expires > Date.now() ? r : undefined;
    } catch {
      return undefined;
    }
  }
}
