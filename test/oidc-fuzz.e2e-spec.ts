import * as client from 'openid-client';
import { startTestApp, type TestApp } from './harness.js';
import { AuditService } from '../src/audit/audit.service.js';
import { Browser } from './oidc-support.js';
import * as fixtures from './fixtures.js';
import { REDIRECT } from './fixtures.js';

/**
 * Values a client or an attacker may send, written as they appear on the wire (already
 * percent-encoded where it matters): NUL, invalid UTF-8, broken escapes, lone surrogates,
 * huge values, JSON, numbers out of range. Deterministic: the same list on every run.
 */
const RAW_VALUES = [
  '%00',
  'a%00b',
  '%00%ff',
  '%ff',
  '%c3%28',
  '%ed%a0%80',
  '%f0%28%8c%bc',
  '%',
  '%zz',
  '%25',
  '',
  '+',
  '%20',
  '-1',
  '1e309',
  '%7B%22a%22%3A1%7D',
  '%5B%5D',
  'null',
  '%F0%9F%98%80',
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '..%2F..%2Fetc%2Fpasswd',
  'a'.repeat(3000),
  'zz-zz-'.repeat(250),
  '%00'.repeat(200),
  'x%0d%0aSet-Cookie:%20a=b',
];

/** The parameters each provider endpoint reads (plus a few it does not). */
const PARAMS: Record<string, string[]> = {
  authorize: [
    'client_id',
    'redirect_uri',
    'response_type',
    'scope',
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'ui_locales',
    'login_hint',
    'claims',
    'prompt',
    'max_age',
    'id_token_hint',
    'request',
    'request_uri',
    'resource',
    'acr_values',
    'response_mode',
  ],
  token: [
    'grant_type',
    'code',
    'redirect_uri',
    'code_verifier',
    'refresh_token',
    'device_code',
    'scope',
    'resource',
    'client_id',
    'client_secret',
    'client_assertion',
    'client_assertion_type',
  ],
  introspect: ['token', 'token_type_hint', 'client_id', 'client_secret'],
  revoke: ['token', 'token_type_hint', 'client_id', 'client_secret'],
  request: ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'login_hint'],
  'device/auth': ['client_id', 'scope', 'resource', 'client_secret'],
  device: ['user_code', 'xsrf', 'confirm', 'abort'],
  logout: ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout', 'xsrf'],
  userinfo: ['access_token', 'scope'],
};

type Answer = { method: string; path: string; status: number; text: string; location?: string };

/** Failures as short distinct lines, so a failing run reads as a list of cases. */
function summary(failures: Answer[]): string[] {
  const lines = failures.map(
    (f) => `${f.method} ${f.path.slice(0, 90)} -> ${f.status} ${f.text.slice(0, 80)}`,
  );
  return [...new Set(lines)];
}

/** Runs requests a few at a time (the machine is small; the point is coverage, not load). */
async function all(requests: Array<() => Promise<unknown>>, width = 6) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < requests.length) await requests[next++]();
    }),
  );
}

function form(params: Record<string, string>, fuzzed: [string, string]): string {
  const plain = Object.entries(params)
    .filter(([k]) => k !== fuzzed[0])
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return [...plain, `${fuzzed[0]}=${fuzzed[1]}`].join('&');
}

describe('OIDC endpoints under bad input', () => {
  let t: TestApp;
  let app: Awaited<ReturnType<typeof fixtures.app>>;
  let basic: string;
  const failures: Answer[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    app = await fixtures.app(t, {
      prefix: 'fuzz',
      client: fixtures.webApp(REDIRECT, {
        grant_types: [
          'authorization_code',
          'refresh_token',
          'client_credentials',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
      }),
    });
    basic = `Basic ${Buffer.from(`${app.c.client_id}:${app.c.client_secret}`).toString('base64')}`;
  });
  afterAll(() => t.close());
  beforeEach(() => {
    failures.length = 0;
  });

  /** Sends a request as raw as fetch allows; records any 5xx. */
  async function send(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const r = await fetch(`${t.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: init.headers,
      body: init.body,
    });
    const answer: Answer = {
      method,
      path: path.slice(0, 200),
      status: r.status,
      text: await r.text(),
      location: r.headers.get('location') ?? undefined,
    };
    if (answer.status >= 500) failures.push({ ...answer, text: answer.text.slice(0, 300) });
    return answer;
  }

  /** A valid request's parameters for an endpoint, so the fuzzed one is reached. */
  function base(endpoint: string): Record<string, string> {
    const c = app.c.client_id;
    switch (endpoint) {
      case 'authorize':
      case 'request':
        return {
          client_id: c,
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        };
      case 'token':
        return { grant_type: 'refresh_token', refresh_token: 'x' };
      case 'introspect':
      case 'revoke':
        return { token: 'x' };
      case 'device/auth':
        return { scope: 'openid' };
      case 'logout':
        return { client_id: c };
      default:
        return {};
    }
  }

  function authHeaders(endpoint: string): Record<string, string> {
    return ['token', 'introspect', 'revoke', 'request', 'device/auth'].includes(endpoint)
      ? { authorization: basic }
      : {};
  }

  it('never answers 5xx to a bad value of any parameter (query and form body)', async () => {
    const tenant = `/${app.tenantId}`;
    const requests: Array<() => Promise<unknown>> = [];
    for (const [endpoint, params] of Object.entries(PARAMS)) {
      for (const param of params) {
        for (const raw of RAW_VALUES) {
          const body = form(base(endpoint), [param, raw]);
          requests.push(() =>
            send('GET', `${tenant}/${endpoint}?${body}`, { headers: authHeaders(endpoint) }),
          );
          requests.push(() =>
            send('POST', `${tenant}/${endpoint}`, {
              body,
              headers: {
                ...authHeaders(endpoint),
                'content-type': 'application/x-www-form-urlencoded',
              },
            }),
          );
        }
      }
    }
    await all(requests);
    expect(summary(failures)).toEqual([]);
  });

  it('never answers 5xx to the reported cases', async () => {
    const tenant = `/${app.tenantId}`;
    const authorize = new URLSearchParams(base('authorize')).toString();
    const locales = 'zz-zz-'.repeat(250);
    const answers = [
      await send('GET', `${tenant}/authorize?${authorize}&ui_locales=${locales}&login_hint=%00%ff`),
      await send('POST', `${tenant}/token`, {
        body: 'grant_type=refresh_token&refresh_token=%00',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      }),
      await send('GET', `${tenant}/device/auth`),
    ];
    expect(summary(failures)).toEqual([]);
    // The authorization request goes back to the app with an OAuth error.
    expect(answers[0].status).toBe(303);
    const back = new URL(answers[0].location!);
    expect(back.href.startsWith(REDIRECT)).toBe(true);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(answers[1]).toMatchObject({ status: 400 });
    expect(JSON.parse(answers[1].text)).toMatchObject({ error: 'invalid_grant' });
    // A POST-only endpoint says so.
    expect([400, 405]).toContain(answers[2].status);
  });

  it('never answers 5xx to duplicated or array parameters, odd bodies and content types', async () => {
    const tenant = `/${app.tenantId}`;
    const requests: Array<() => Promise<unknown>> = [];
    const bodies: Array<[string, string | undefined]> = [
      ['application/json', '{"grant_type":"refresh_token","refresh_token":"\\u0000"}'],
      ['application/json', '{"grant_type":["a","b"],"token":{"x":1}}'],
      ['application/json', '{"broken'],
      ['application/json', '[]'],
      ['text/plain', 'grant_type=refresh_token&refresh_token=x'],
      [
        'multipart/form-data; boundary=zz',
        '--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--zz--',
      ],
      ['application/x-www-form-urlencoded; charset=latin1', 'token=%e9'],
      ['application/x-www-form-urlencoded', 'token=a&token=b&grant_type=x&grant_type=y'],
      ['application/x-www-form-urlencoded', 'token[]=a&token[b]=c&client_id[]=x'],
      ['application/x-www-form-urlencoded', '&&&=&=='],
      ['application/x-www-form-urlencoded', `token=${'a'.repeat(200_000)}`],
      ['application/xml', '<a/>'],
      ['', 'token=x'],
      ['application/x-www-form-urlencoded', undefined],
    ];
    for (const endpoint of Object.keys(PARAMS)) {
      for (const [type, body] of bodies) {
        for (const auth of [{}, { authorization: basic }] as Array<Record<string, string>>) {
          const headers: Record<string, string> = { ...auth };
          if (type) headers['content-type'] = type;
          requests.push(() => send('POST', `${tenant}/${endpoint}`, { body, headers }));
        }
      }
      for (const q of ['a=1&a=2', 'client_id=x&client_id=y', 'scope[]=x', 'client_id[a]=b']) {
        requests.push(() => send('GET', `${tenant}/${endpoint}?${q}`));
      }
      for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
        requests.push(() => send(method, `${tenant}/${endpoint}`));
      }
    }
    for (const header of [
      'Basic %00',
      'Basic !!!',
      `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`,
      `Basic ${Buffer.from('%ff:%00').toString('base64')}`,
      `Basic ${Buffer.from(`${'a'.repeat(5000)}:b`).toString('base64')}`,
      'Bearer \u00ff',
      'Bearer a b',
      'DPoP x',
    ]) {
      for (const endpoint of [
        'token',
        'introspect',
        'revoke',
        'request',
        'device/auth',
        'userinfo',
      ]) {
        requests.push(() =>
          send(endpoint === 'userinfo' ? 'GET' : 'POST', `${tenant}/${endpoint}`, {
            body: endpoint === 'userinfo' ? undefined : 'token=x&grant_type=client_credentials',
            headers: {
              authorization: header,
              ...(endpoint === 'userinfo'
                ? {}
                : { 'content-type': 'application/x-www-form-urlencoded' }),
            },
          }),
        );
      }
    }
    await all(requests);
    expect(summary(failures)).toEqual([]);
  });

  it('never answers 5xx on the interaction pages and with broken cookies', async () => {
    const tenant = `/${app.tenantId}`;
    const browser = new Browser();
    const start = client.buildAuthorizationUrl(app.config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const started = await browser.get(start);
    const interaction = new URL(started.location!);
    const page = await browser.get(interaction);
    expect(page.status).toBe(200);
    const cookie = (browser as unknown as { cookieHeader(u: URL): string }).cookieHeader(
      interaction,
    );

    const requests: Array<() => Promise<unknown>> = [];
    const steps = [
      'login',
      'consent',
      'login/passkey-options',
      'login/email-code',
      'login/email-code/verify',
      'second-factor',
      'enrol',
      'continue',
      'signup',
      'abort',
    ];
    const fields = [
      'login',
      'password',
      'xsrf',
      '_csrf',
      'code',
      'email',
      'username',
      'credential',
    ];
    for (const raw of RAW_VALUES) {
      requests.push(() => send('GET', `${tenant}/interaction/${raw}`, { headers: { cookie } }));
      requests.push(() =>
        send('GET', `${tenant}/authorize/${raw}`, {
          headers: { cookie: `${cookie}; _session=${raw}` },
        }),
      );
      for (const step of steps) {
        for (const field of fields) {
          requests.push(() =>
            send('POST', `${interaction.pathname}/${step}`, {
              body: `${field}=${raw}`,
              headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
            }),
          );
        }
      }
      requests.push(() =>
        send('GET', `${interaction.pathname}`, {
          headers: { cookie: `_interaction=${raw}; _interaction.sig=${raw}` },
        }),
      );
      requests.push(() => send('GET', `${tenant}/login/reset?token=${raw}`));
      requests.push(() =>
        send('POST', `${tenant}/login/forgot`, {
          body: `email=${raw}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
    }
    await all(requests);
    expect(summary(failures)).toEqual([]);
  });
  it('records a failed client authentication whose client id holds NUL', async () => {
    const tenant = `/${app.tenantId}`;
    const answer = await send('POST', `${tenant}/token`, {
      body: 'grant_type=client_credentials&client_id=evil%00client&client_secret=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(401);
    // One event holding NUL used to fail its whole batch: every event in it was lost.
    await t.app.get(AuditService).flush();
    const r = await t.http(
      'GET',
      `/api/v1/tenants/${app.tenantId}/audit-events?type=client_auth.failure`,
    );
    expect(r.body.data).toContainEqual(expect.objectContaining({ actor_id: 'evil\uFFFDclient' }));
  });
});
