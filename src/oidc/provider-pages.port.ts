import type { Branding } from '../tenants/branding.js';

/** What the pages show of a client. */
export interface ClientDisplay {
  name: string;
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
}

/**
 * The pages oidc-provider itself renders (device flow, sign-out, errors). The hosted layer
 * implements them (src/hosted/provider-pages.ts) and the app wiring hands them in, so this
 * module never imports the hosted layer. Each answers a whole HTML document.
 */
export interface ProviderPages {
  /** The Content-Security-Policy these pages are sent with. */
  csp: string;
  error(b: Branding, error: string, description?: string): string;
  message(b: Branding, title: string, message: string): string;
  logout(b: Branding, o: { action: string; xsrf: string; client?: ClientDisplay }): string;
  /** After a logout: hidden iframes for the clients' front-channel logout URLs, then `next`. */
  frontChannelLogout(b: Branding, o: { frames: string[]; next: string }): string;
  deviceInput(b: Branding, o: { action: string; xsrf: string; error?: string }): string;
  deviceConfirm(
    b: Branding,
    o: { action: string; xsrf: string; userCode: string; client?: ClientDisplay },
  ): string;
}

export const PROVIDER_PAGES = Symbol('PROVIDER_PAGES');
