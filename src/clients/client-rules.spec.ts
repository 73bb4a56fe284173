import { generateKeyPairSync } from 'node:crypto';
import {
  applicationType,
  clientDefaults,
  clientProblems,
  jwksProblems,
  redirectUriProblem,
  scopeProblem,
  webUriProblem,
  type ClientSettings,
} from './client-rules.js';

function settings(over: Partial<ClientSettings> = {}): ClientSettings {
  const type = over.client_type ?? 'confidential';
  return {
    ...clientDefaults(type),
    name: 'App',
    client_type: type,
    redirect_uris: ['https://app.example.com/cb'],
    ...over,
  };
}

const fields = (s: ClientSettings) => clientProblems(s).map((e) => e.field);

const publicJwk = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });

describe('redirect URI rules', () => {
  it.each([
    'https://app.example.com/cb',
    'https://app.example.com:8443/cb?x=1',
    'http://localhost/cb',
    'http://localhost:3000/cb',
    'http://127.0.0.1:8080/cb',
    'http://[::1]:8080/cb',
  ])('accepts %s for any client', (uri) => {
    expect(redirectUriProblem(uri, 'confidential')).toBeUndefined();
    expect(redirectUriProblem(uri, 'public')).toBeUndefined();
  });

  it.each([
    ['/relative/cb', 'absolute'],
    ['app.example.com/cb', 'absolute'],
    ['https://app.example.com/cb#frag', 'fragment'],
    ['https://app.example.com/cb#', 'fragment'],
    ['http://app.example.com/cb', 'https'],
    ['http://localhost.evil.com/cb', 'https'],
    ['http://127.0.0.2/cb', 'https'],
    ['https://user:pw@app.example.com/cb', 'credentials'],
  ])('rejects %s', (uri, why) => {
    expect(redirectUriProblem(uri, 'public')).toContain(why);
  });

  it('rejects an overlong URI', () => {
    expect(redirectUriProblem(`https://app.example.com/${'x'.repeat(2100)}`, 'public')).toContain(
      'at most',
    );
  });

  it('allows a reverse-domain custom scheme for public clients only', () => {
    expect(redirectUriProblem('com.example.app:/callback', 'public')).toBeUndefined();
    expect(redirectUriProblem('com.example.app://callback', 'public')).toBeUndefined();
    expect(redirectUriProblem('com.example.app:/callback', 'confidential')).toMatch(/public/);
  });

  it.each(['myapp://cb', 'javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd'])(
    'rejects the non-reverse-domain or dangerous scheme %s',
    (uri) => {
      expect(redirectUriProblem(uri, 'public')).toBeDefined();
    },
  );

  it('tells native (custom scheme) clients from web ones', () => {
    expect(
      applicationType({ redirect_uris: ['com.example.app:/cb'], post_logout_redirect_uris: [] }),
    ).toBe('native');
    expect(
      applicationType({ redirect_uris: ['http://localhost/cb'], post_logout_redirect_uris: [] }),
    ).toBe('web');
  });

  it('web URIs need https except on loopback, and no custom schemes at all', () => {
    expect(webUriProblem('https://example.com/logo.png')).toBeUndefined();
    expect(webUriProblem('http://localhost/tos')).toBeUndefined();
    expect(webUriProblem('http://example.com/tos')).toMatch(/https/);
    expect(webUriProblem('com.example.app:/x')).toMatch(/https/);
    expect(webUriProblem('not a url')).toMatch(/absolute/);
  });
});

describe('scope rules', () => {
  it.each(['openid', 'profile', 'email', 'offline_access', 'roles', 'groups', 'tenant'])(
    'accepts the standard scope %s',
    (s) => expect(scopeProblem(s)).toBeUndefined(),
  );
  it.each(['api:read', 'orders.write', 'a', 'billing_v2-x'])('accepts the custom scope %s', (s) =>
    expect(scopeProblem(s)).toBeUndefined(),
  );
  it.each(['Api', '1scope', 'with space', '', 'ümlaut', 'a'.repeat(65), 'x/y'])('rejects %j', (s) =>
    expect(scopeProblem(s)).toBeDefined(),
  );
});

describe('client rules as a whole', () => {
  it('accepts sensible defaults for both client types', () => {
    expect(clientProblems(settings())).toEqual([]);
    expect(clientProblems(settings({ client_type: 'public' }))).toEqual([]);
    expect(clientDefaults('public').token_endpoint_auth_method).toBe('none');
    expect(clientDefaults('confidential').token_endpoint_auth_method).toBe('client_secret_basic');
    expect(clientDefaults('confidential').id_token_signed_response_alg).toBe('RS256');
  });

  it('public clients authenticate with none and never use client_credentials', () => {
    expect(
      fields(
        settings({ client_type: 'public', token_endpoint_auth_method: 'client_secret_basic' }),
      ),
    ).toEqual(['token_endpoint_auth_method']);
    expect(
      fields(
        settings({
          client_type: 'public',
          grant_types: ['authorization_code', 'client_credentials'],
        }),
      ),
    ).toEqual(['grant_types']);
  });

  it('confidential clients cannot use none', () => {
    expect(fields(settings({ token_endpoint_auth_method: 'none' }))).toEqual([
      'token_endpoint_auth_method',
    ]);
  });

  it('private_key_jwt needs jwks or jwks_uri, not both', () => {
    expect(fields(settings({ token_endpoint_auth_method: 'private_key_jwt' }))).toEqual(['jwks']);
    expect(
      clientProblems(
        settings({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk()] },
        }),
      ),
    ).toEqual([]);
    expect(
      clientProblems(
        settings({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: 'https://app.example.com/jwks',
        }),
      ),
    ).toEqual([]);
    expect(
      fields(
        settings({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk()] },
          jwks_uri: 'https://app.example.com/jwks',
        }),
      ),
    ).toEqual(['jwks_uri']);
  });

  it('refuses private, symmetric or malformed client keys', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const priv = privateKey.export({ format: 'jwk' });
    expect(jwksProblems({ keys: [priv] })[0].message).toMatch(/public key/);
    expect(jwksProblems({ keys: [{ kty: 'oct', k: 'abc' }] })[0].field).toBe('jwks.keys[0].kty');
    expect(
      jwksProblems({ keys: [{ kty: 'EC', crv: 'P-256', x: 'bad', y: 'bad' }] })[0].message,
    ).toMatch(/not a valid/);
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    });
    expect(jwksProblems({ keys: [weakRsa] })[0].message).toMatch(/2048/);
    expect(jwksProblems({ keys: [{ kty: 'RSA', n: 'x', e: 'y' }] })).toHaveLength(1);
    expect(jwksProblems({ keys: [] })[0].field).toBe('jwks.keys');
    expect(jwksProblems({ nokeys: 1 })[0].field).toBe('jwks.keys');
    expect(jwksProblems({ keys: ['x'] })[0].field).toBe('jwks.keys[0]');
    expect(jwksProblems({ keys: [{ ...publicJwk(), kid: 5 }] })[0].field).toBe('jwks.keys[0].kid');
  });

  it('authorization_code needs a redirect URI; client_credentials alone does not', () => {
    expect(fields(settings({ redirect_uris: [] }))).toEqual(['redirect_uris']);
    expect(
      clientProblems(settings({ redirect_uris: [], grant_types: ['client_credentials'] })),
    ).toEqual([]);
  });

  it('refresh_token needs a grant that can obtain one; grants are named once', () => {
    expect(fields(settings({ grant_types: ['client_credentials', 'refresh_token'] }))).toEqual([
      'grant_types',
    ]);
    expect(
      clientProblems(
        settings({
          client_type: 'public',
          redirect_uris: [],
          grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        }),
      ),
    ).toEqual([]);
    expect(fields(settings({ grant_types: [] }))).toEqual(['grant_types']);
    expect(fields(settings({ grant_types: ['authorization_code', 'authorization_code'] }))).toEqual(
      ['grant_types'],
    );
  });

  it('names the offending redirect URI by index, for both lists', () => {
    expect(
      fields(
        settings({
          redirect_uris: ['https://ok.example.com/cb', 'http://bad.example.com/cb'],
          post_logout_redirect_uris: ['https://ok.example.com/bye#x'],
        }),
      ),
    ).toEqual(['redirect_uris[1]', 'post_logout_redirect_uris[0]']);
    expect(
      fields(settings({ redirect_uris: ['https://a.example.com/cb', 'https://a.example.com/cb'] })),
    ).toEqual(['redirect_uris']);
  });

  it('a native client may not claim https on a loopback host', () => {
    expect(
      fields(
        settings({
          client_type: 'public',
          redirect_uris: ['com.example.app:/cb', 'https://localhost/cb'],
        }),
      ),
    ).toEqual(['redirect_uris[1]']);
    expect(
      clientProblems(
        settings({
          client_type: 'public',
          redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1:7000/cb'],
        }),
      ),
    ).toEqual([]);
  });

  it('checks every web URI field and every scope', () => {
    expect(
      fields(
        settings({
          logo_uri: 'http://cdn.example.com/logo.png',
          client_uri: 'nope',
          policy_uri: 'https://example.com/p#x',
          tos_uri: 'ftp://example.com/tos',
          client_logout_uri: 'javascript:alert(1)',
          backchannel_logout_uri: 'https://example.com/bc#fragment',
          jwks_uri: 'http://example.com/jwks',
          allowed_scopes: ['openid', 'Bad Scope', 'openid'],
        }),
      ),
    ).toEqual([
      'jwks_uri',
      'logo_uri',
      'client_uri',
      'policy_uri',
      'tos_uri',
      'client_logout_uri',
      'backchannel_logout_uri',
      'allowed_scopes[1]',
      'allowed_scopes',
    ]);
  });
});
