import { cookieValue, sign, verify } from './forward-cookie.js';
import { AppIndex, originalRequest } from './forward-request.js';
import type { ProtectedAppEntity } from './protected-app.entity.js';

const app = (name: string, hosts: string[], path_prefix = '/') =>
  ({ app_id: name, name, hosts, path_prefix }) as ProtectedAppEntity;

describe('forward-auth request rules', () => {
  it('reads nginx X-Original-URL and Traefik/Caddy X-Forwarded-*, dropping default ports', () => {
    expect(originalRequest({ 'x-original-url': 'https://App.Example.com:443/a?b=1' })).toEqual({
      proto: 'https',
      host: 'app.example.com',
      uri: '/a?b=1',
      method: 'GET',
    });
    expect(
      originalRequest({
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'app.example.com:80, proxy.internal',
        'x-forwarded-uri': '/x',
        'x-forwarded-method': 'post',
      }),
    ).toEqual({ proto: 'http', host: 'app.example.com', uri: '/x', method: 'POST' });
    expect(originalRequest({})).toBeUndefined();
    expect(originalRequest({ 'x-original-url': 'javascript:alert(1)' })).toBeUndefined();
  });

  it('matches the longest path prefix of the host, and only whole segments', () => {
    const index = new AppIndex([
      app('site', ['a.example.com']),
      app('admin', ['a.example.com'], '/admin'),
    ]);
    expect(index.match('a.example.com', '/admin/users?x')?.name).toBe('admin');
    expect(index.match('a.example.com', '/admin')?.name).toBe('admin');
    expect(index.match('a.example.com', '/administrator')?.name).toBe('site');
    expect(index.match('b.example.com', '/')).toBeUndefined();
  });

  it('accepts return URLs on protected hosts only: no other site, scheme, credentials or relative trick', () => {
    const index = new AppIndex([app('a', ['a.example.com', 'b.example.com:8443'], '/app')]);
    expect(index.safeReturn('https://a.example.com/app/x?y=1')?.url).toBe(
      'https://a.example.com/app/x?y=1',
    );
    expect(index.safeReturn('https://b.example.com:8443/app')?.url).toBe(
      'https://b.example.com:8443/app',
    );
    for (const bad of [
      'https://evil.example.com/app',
      '//a.example.com/app',
      '/app',
      'javascript:alert(1)//a.example.com/app',
      'https://user:pw@a.example.com/app',
      'https://a.example.com.evil.com/app',
      'https://a.example.com/other',
      'https://b.example.com/app',
      undefined,
    ])
      expect([bad, index.safeReturn(bad)]).toEqual([bad, undefined]);
  });

  it('signs and verifies; a changed byte or another key fails; a cookie is found among others', () => {
    const key = Buffer.alloc(32, 1);
    const value = sign(key, { a: 1 });
    expect(verify(key, value)).toEqual({ a: 1 });
    expect(verify(Buffer.alloc(32, 2), value)).toBeUndefined();
    expect(
      verify(
        key,
        value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toBeUndefined();
    expect(
      verify(key, `${Buffer.from('{"a":2}').toString('base64url')}.${value.split('.')[1]}`),
    ).toBeUndefined();
    expect(cookieValue('x_idp_forward_auth=1; idp_forward_auth=2; z=3', 'idp_forward_auth')).toBe(
      '2',
    );
    expect(cookieValue('a=1', 'idp_forward_auth')).toBeUndefined();
  });
});
