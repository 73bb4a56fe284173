import { MetricsService } from '../src/metrics/metrics.service.js';
import { newTenant, startTestApp, type TestApp } from './harness.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP/TYPE comment or a
 * well-formed sample of a declared family; anything else throws.
 */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
  const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) {
          throw new Error(`bad type: ${line}`);
        }
        if (types.has(m[2])) throw new Error(`family declared twice: ${m[2]}`);
        types.set(m[2], m[3]);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const [, name, labelText = '', rawValue] = m;
    const labels: Record<string, string> = {};
    let rest = labelText;
    while (rest.length) {
      const l = labelPair.exec(rest);
      if (!l) throw new Error(`bad labels: ${line}`);
      labels[l[1]] = l[2];
      rest = rest.slice(l[0].length);
    }
    const value = ['+Inf', '-Inf', 'NaN'].includes(rawValue)
      ? Number(rawValue.replace('Inf', 'Infinity'))
      : Number(rawValue);
    if (Number.isNaN(value) && rawValue !== 'NaN') throw new Error(`bad value: ${line}`);
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) =>
      types.has(n),
    );
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );

describe('metrics without METRICS_TOKEN (loopback clients only)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The test client is on loopback; a trusted proxy's X-Forwarded-For plays a remote client.
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(() => t.close());

  it('serves the Prometheus text format with route templates, never raw URLs', async () => {
    const { tenantId } = await newTenant(t);
    await t.http('GET', `/api/v1/tenants/${tenantId}`);
    await t.http('GET', `/no/such/path/${tenantId}`, { key: null });
    const metrics = t.app.get(MetricsService);
    metrics.signIn('success', 'password');
    metrics.signIn('failure', 'totp');
    metrics.tokenIssued('client_credentials', 'success');
    metrics.providerCacheHit();
    metrics.providerCacheMiss();
    // Unbounded junk becomes "other" instead of a new series.
    metrics.signIn('failure', 'Robert"); DROP TABLE');

    const r = await t.http('GET', '/metrics', { key: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(r.text);

    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    const routes = new Set(
      find(samples, 'http_request_duration_seconds_count').map((s) => s.labels.route),
    );
    expect(routes).toContain('/api/v1/tenants/:tenant_id');
    expect(routes).toContain('unmatched');
    expect([...routes].some((route) => route.includes(tenantId))).toBe(false);
    const tenantGets = find(samples, 'http_request_duration_seconds_count', {
      route: '/api/v1/tenants/:tenant_id',
      method: 'GET',
      status: '2xx',
    });
    expect(tenantGets[0].value).toBeGreaterThanOrEqual(1);

    expect(
      find(samples, 'idp_sign_ins_total', { outcome: 'success', method: 'password' })[0].value,
    ).toBe(1);
    expect(
      find(samples, 'idp_sign_ins_total', { outcome: 'failure', method: 'totp' })[0].value,
    ).toBe(1);
    expect(
      find(samples, 'idp_sign_ins_total', { outcome: 'failure', method: 'other' })[0].value,
    ).toBe(1);
    expect(
      find(samples, 'idp_tokens_issued_total', {
        grant: 'client_credentials',
        outcome: 'success',
      })[0].value,
    ).toBe(1);
    expect(find(samples, 'idp_provider_cache_total', { result: 'hit' })[0].value).toBe(1);
    expect(find(samples, 'idp_provider_cache_total', { result: 'miss' })[0].value).toBe(1);
    expect(find(samples, 'idp_db_pool_connections', { state: 'total' })[0].value).toBeGreaterThan(
      0,
    );
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('refuses a client that is not on loopback with a 403 problem', async () => {
    const remote = await t.http('GET', '/metrics', {
      key: null,
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(remote.status).toBe(403);
    expect(remote.headers.get('content-type')).toMatch(/problem\+json/);
    expect(remote.text).not.toContain('process_cpu');
    // An IPv4-mapped or 127/8 address is loopback too; an operator key does not open it.
    for (const ip of ['127.0.0.2', '::ffff:127.0.0.1', '::1']) {
      const local = await t.http('GET', '/metrics', {
        key: null,
        headers: { 'x-forwarded-for': ip },
      });
      expect([ip, local.status]).toEqual([ip, 200]);
    }
    const withKey = await t.http('GET', '/metrics', {
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(withKey.status).toBe(403);
  });

  it('the strict parser refuses malformed expositions', () => {
    expect(() => parsePrometheus('# TYPE a counter\na{x="1" 1\n')).toThrow();
    expect(() => parsePrometheus('b 1\n')).toThrow(/undeclared/);
    expect(() => parsePrometheus('# TYPE a counter\na one\n')).toThrow();
  });
});

describe('metrics with METRICS_PUBLIC=true', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1', METRICS_PUBLIC: 'true' } });
  });
  afterAll(() => t.close());

  it('answers a remote client without a token', async () => {
    const r = await t.http('GET', '/metrics', {
      key: null,
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(r.status).toBe(200);
    expect(() => parsePrometheus(r.text)).not.toThrow();
  });
});

describe('metrics behind METRICS_TOKEN', () => {
  let t: TestApp;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.close());

  it('requires the bearer token and takes no API key instead', async () => {
    expect((await t.http('GET', '/metrics', { key: null })).status).toBe(401);
    // An operator API key is not the metrics token.
    expect((await t.http('GET', '/metrics')).status).toBe(401);
    const wrong = await t.http('GET', '/metrics', {
      key: null,
      headers: { authorization: `Bearer ${token}x` },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/problem\+json/);
    const ok = await t.http('GET', '/metrics', {
      key: null,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    expect(() => parsePrometheus(ok.text)).not.toThrow();
  });
});
