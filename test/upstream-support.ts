import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { TestApp } from './harness.js';
import { Browser, findForm, type BrowserResponse } from './oidc-support.js';

/**
 * Helpers of the upstream sign-in suites: a bare oidc-provider started by the test (the
 * "corporate IdP"), a cookie jar per host:port (the app and the bare provider both listen on
 * 127.0.0.1, and their cookies must not meet), and the admin call that adds a provider.
 */

/** One cookie-keeping browser per origin. */
export class Jars {
  private readonly jars = new Map<string, Browser>();

  /** Uses `browser` for the origin of `url` (a custom UI's jar, with its interaction cookies). */
  adopt(url: string | URL, browser: Browser) {
    this.jars.set(new URL(url).host, browser);
  }

  jar(url: string | URL): Browser {
    const host = new URL(url).host;
    let b = this.jars.get(host);
    if (!b) this.jars.set(host, (b = new Browser()));
    return b;
  }

  get(url: string | URL) {
    return this.jar(url).get(url);
  }

  post(url: string | URL, form: Record<string, string>) {
    return this.jar(url).post(url, form);
  }
}

export interface UpstreamAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  groups?: string[];
}

/** A bare OpenID Provider with devInteractions (any login is that account), on a local port. */
export class BareUpstream {
  readonly accounts = new Map<string, UpstreamAccount>();
  issuer = '';
  readonly clientId = 'idp-rp';
  readonly clientSecret = 'bare-upstream-secret-0123456789abcdef';
  private server?: Server;
  private redirectUris: string[] = [];
  private forgedJwks?: { keys: JWK[] };

  /** Starts with the callback URLs the client may use (one per provider of the tenant). */
  async start(redirectUris: string[], extra: Partial<Configuration> = {}) {
    this.redirectUris = redirectUris;
    this.server = createServer();
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const accounts = this.accounts;
    const provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: this.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      async findAccount(_ctx, id) {
        const account = accounts.get(id);
        if (!account) return undefined;
        return { accountId: id, claims: () => ({ sub: id, ...account }) };
      },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username'],
        groups: ['groups'],
      },
      scopes: ['openid', 'email', 'profile', 'groups'],
      features: { devInteractions: { enabled: true } },
      cookies: { keys: ['bare-upstream-cookie-key'] },
      ...extra,
    });
    const handle = provider.callback();
    this.server.on('request', (req, res) => {
      if (this.forgedJwks && req.url === '/jwks') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(this.forgedJwks));
        return;
      }
      void handle(req, res);
    });
  }

  /**
   * From now on the provider publishes keys it does not sign with: the same key ids and
   * algorithms over other key material, so its ID tokens' signatures no longer verify.
   */
  async forgeKeys() {
    const real = (await (await fetch(`${this.issuer}/jwks`)).json()) as { keys: JWK[] };
    const keys: JWK[] = [];
    for (const k of real.keys) {
      const alg = k.alg ?? (k.kty === 'RSA' ? 'RS256' : k.kty === 'EC' ? 'ES256' : 'EdDSA');
      const pair = await generateKeyPair(alg, { extractable: true, crv: k.crv });
      keys.push({ ...(await exportJWK(pair.publicKey)), kid: k.kid, alg: k.alg, use: k.use });
    }
    this.forgedJwks = { keys };
  }

  async close() {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Adds an upstream provider to a tenant through the admin API. */
export async function createUpstream(
  t: TestApp,
  tenantId: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const r = await t.http('POST', `/api/v1/tenants/${tenantId}/upstream-providers`, { body });
  if (r.status !== 201) throw new Error(`upstream provider create failed: ${r.status} ${r.text}`);
  return r.body;
}

const strip = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/g, '').slice(0, 3000);

/**
 * Follows redirects across origins; on the upstream's own pages signs in as `login` (the bare
 * provider's devInteractions, or a tenant's hosted login with `password`) and consents. Stops
 * at a page of the app that is not the upstream's (a refusal, a TOTP step), or at `stopAt`.
 */
export async function walk(
  jars: Jars,
  res: BrowserResponse,
  o: {
    stopAt: string;
    /** Where the upstream lives (origin + path prefix): its pages are answered here. */
    upstream: string;
    login?: string;
    password?: string;
    /** Changes a URL before it is followed (tampering tests). */
    rewrite?: (url: URL) => URL;
    /** Stop when this returns true for the next URL. */
    until?: (url: URL) => boolean;
  },
): Promise<BrowserResponse> {
  for (let hops = 0; hops < 20; hops++) {
    if (res.status === 302 || res.status === 303) {
      let next = new URL(res.location!);
      if (next.href.startsWith(o.stopAt) || o.until?.(next)) return res;
      if (o.rewrite) next = o.rewrite(next);
      res = await jars.get(next);
      continue;
    }
    if (res.status !== 200 || !res.url.href.startsWith(o.upstream)) return res;
    if (res.html.includes('name="prompt" value="login"')) {
      const form = findForm(res.html, '/interaction/');
      res = await jars.post(new URL(form.action, res.url), {
        ...form.fields,
        login: o.login ?? 'nobody',
        password: 'any',
      });
    } else if (res.html.includes('name="prompt" value="consent"')) {
      const form = findForm(res.html, '/interaction/');
      res = await jars.post(new URL(form.action, res.url), form.fields);
    } else if (res.html.includes('name="password"')) {
      const form = findForm(res.html, '/login');
      res = await jars.post(new URL(form.action, res.url), {
        ...form.fields,
        method: 'password',
        login: o.login ?? 'nobody',
        password: o.password ?? '',
      });
    } else if (/<form method="post" action="[^"]*\/callback"/.test(res.html)) {
      // response_mode=form_post: the upstream's self-submitting form back to the callback.
      const form = findForm(res.html, '/callback');
      res = await jars.post(new URL(form.action, res.url), form.fields);
    } else if (res.html.includes('/consent"')) {
      const form = findForm(res.html, '/consent');
      res = await jars.post(new URL(form.action, res.url), form.fields);
    } else {
      throw new Error(`unexpected upstream page ${res.url}:\n${strip(res.html)}`);
    }
  }
  throw new Error('too many hops');
}

export { strip };

/**
 * A GitHub-shaped OAuth2 server (no OIDC): authorize answers at once with a code, the token
 * endpoint checks the code, secret and PKCE verifier, `/user` and `/user/emails` answer the
 * bearer of the token. Just enough of GitHub's shape for the oauth2 path.
 */
export class FakeGitHub {
  origin = '';
  readonly clientId = 'gh-client';
  readonly clientSecret = 'gh-secret-0123456789';
  user: Record<string, unknown> = { id: 4242, login: 'octocat', name: 'Mona Octocat', email: null };
  emails: Array<Record<string, unknown>> = [];
  private server?: Server;
  private readonly codes = new Map<string, { challenge: string | null; redirect: string }>();
  private readonly tokens = new Set<string>();

  async start() {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close() {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, this.origin);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize') {
      const code = randomBytes(8).toString('hex');
      const redirect = url.searchParams.get('redirect_uri')!;
      this.codes.set(code, { challenge: url.searchParams.get('code_challenge'), redirect });
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const form = new URLSearchParams(body);
      const grant = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        !grant ||
        form.get('client_secret') !== this.clientSecret ||
        form.get('redirect_uri') !== grant.redirect ||
        (grant.challenge && grant.challenge !== challenge)
      )
        return json(400, { error: 'bad_verification_code' });
      const token = randomBytes(16).toString('hex');
      this.tokens.add(token);
      return json(200, {
        access_token: token,
        token_type: 'bearer',
        scope: 'read:user,user:email',
      });
    }
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.tokens.has(bearer)) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/user') return json(200, this.user);
    if (url.pathname === '/user/emails') return json(200, this.emails);
    json(404, { message: 'Not Found' });
  }
}
