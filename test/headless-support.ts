import * as client from 'openid-client';
import type { TestApp } from './harness.js';
import { Browser, discover } from './oidc-support.js';
import { createClient } from './oidc-support.js';
import * as fixtures from './fixtures.js';

export const HEADLESS_REDIRECT = 'http://127.0.0.1:9999/custom-ui/cb';

export interface JsonAnswer {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * A custom sign-in UI as a test drives it: plain fetch with JSON bodies, sharing its cookie
 * jar with a Browser (the provider's interaction and resume cookies arrive on authn/start, the
 * browser then opens finish_url with them), and an openid-client app that redeems the code.
 */
export class CustomUi {
  readonly browser = new Browser();
  verifier = '';
  state = '';
  nonce = '';

  constructor(
    private readonly t: TestApp,
    readonly tenantId: string,
    readonly config: client.Configuration,
    readonly clientId: string,
    private readonly origin?: string,
  ) {}

  url(path: string) {
    return `${this.t.baseUrl}/${this.tenantId}/authn/${path}`;
  }

  async call(
    method: string,
    route: string,
    body?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<JsonAnswer> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.origin && !('origin' in h)) h.origin = this.origin;
    const cookie = this.cookieFor(new URL(this.url(route)).pathname);
    if (cookie && !('cookie' in h)) h.cookie = cookie;
    if (body) h['content-type'] = 'application/json';
    const res = await fetch(this.url(route), {
      method,
      headers: h,
      body: body ? JSON.stringify(body) : undefined,
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const name = pair.slice(0, eq);
      const i = this.browser.cookies.findIndex((c) => c.name === name && c.path === path);
      if (i >= 0) this.browser.cookies.splice(i, 1);
      const gone =
        pair.slice(eq + 1) === '' || attrs.some((a) => /^expires=Thu, 01 Jan 1970/i.test(a));
      if (!gone) this.browser.cookies.push({ name, value: pair.slice(eq + 1), path });
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  /** The jar's cookies for a path (the provider's session cookie is under /<tenant>). */
  cookieFor(pathname: string): string {
    return this.browser.cookies
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.replace(/\/?$/, '/')))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  post(path: string, body: Record<string, unknown>, headers?: Record<string, string>) {
    return this.call('POST', path, body, headers);
  }

  /** authn/start with fresh PKCE, state and nonce. */
  async start(extra: Record<string, unknown> = {}) {
    this.verifier = client.randomPKCECodeVerifier();
    this.state = client.randomState();
    this.nonce = client.randomNonce();
    return this.post('start', {
      client_id: this.clientId,
      redirect_uri: HEADLESS_REDIRECT,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(this.verifier),
      state: this.state,
      nonce: this.nonce,
      ...extra,
    });
  }

  /** Opens finish_url in the browser and redeems the code at the token endpoint. */
  async finish(finishUrl: string) {
    let res = await this.browser.get(finishUrl);
    for (let hops = 0; hops < 5; hops++) {
      if (res.location?.startsWith(HEADLESS_REDIRECT)) break;
      if (!res.location) throw new Error(`no redirect: ${res.status} ${res.html.slice(0, 500)}`);
      res = await this.browser.get(res.location);
    }
    if (!res.location?.startsWith(HEADLESS_REDIRECT)) throw new Error('not back at the app');
    return client.authorizationCodeGrant(this.config, new URL(res.location), {
      pkceCodeVerifier: this.verifier,
      expectedState: this.state,
      expectedNonce: this.nonce,
    });
  }
}

/** A tenant with alice and a first-party app for the custom UI. */
export async function headlessTenant(
  t: TestApp,
  settings: Record<string, unknown> = {},
  origin?: string,
) {
  const tenant = await fixtures.tenant(t, { settings });
  const user = await fixtures.user(t, tenant.tenantId, {
    email: fixtures.uniqueEmail(tenant.tenantId),
  });
  const c = await createClient(t, tenant.tenantId, {
    name: 'Custom UI app',
    client_type: 'confidential',
    redirect_uris: [HEADLESS_REDIRECT],
    allowed_scopes: ['openid', 'profile', 'account', 'account:credentials', 'offline_access'],
    grant_types: ['authorization_code', 'refresh_token'],
    first_party: true,
    logo_uri: 'https://app.example.test/logo.png',
  });
  const config = await discover(tenant.issuer, c.client_id, c.client_secret);
  const ui = () => new CustomUi(t, tenant.tenantId, config, c.client_id, origin);
  return { ...tenant, userId: user.user_id, clientId: c.client_id, config, ui };
}
