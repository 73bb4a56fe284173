import { startTestApp, type TestApp } from './harness.js';

describe('platform endpoints and error format', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('/health answers status, version and env; /health/ready checks the database', async () => {
    const h = await t.http('GET', '/health', { key: null });
    expect(h.status).toBe(200);
    expect(h.body).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      env: 'test',
    });
    const r = await t.http('GET', '/health/ready', { key: null });
    expect(r.status).toBe(200);
    expect(r.body.checks).toEqual({ database: 'ok' });
  });

  it('serves Swagger UI at /docs and the spec at /openapi.json with security schemes', async () => {
    const ui = await t.http('GET', '/docs', { key: null });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const spec = await t.http('GET', '/openapi.json', { key: null });
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.components.securitySchemes).toSorted()).toEqual([
      'api-key',
      'bearer',
    ]);
    const op = spec.body.paths['/api/v1/tenants/{tenant_id}'].get;
    expect(op['x-required-scope']).toBe('tenants:read');
    expect(op.security).toEqual(expect.arrayContaining([{ 'api-key': ['tenants:read'] }]));
  });

  it('answers unknown routes with a 404 problem', async () => {
    const r = await t.http('GET', '/api/v1/nothing-here', { key: null });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: expect.any(String), title: 'Not found', status: 404 });
  });

  it('answers malformed JSON, a wrong media type and an oversize body with 4xx problems', async () => {
    const bad = await t.http('POST', '/api/v1/tenants', {
      body: '{"tenant_id": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.status).toBe(400);

    const text = await t.http('POST', '/api/v1/tenants', {
      body: 'tenant_id=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body.status).toBe(415);

    const big = await t.http('POST', '/api/v1/tenants', {
      body: { display_name: 'x'.repeat(1_100_000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.status).toBe(413);
  });

  it('never leaks stack traces or SQL in problems', async () => {
    const r = await t.http('GET', '/api/v1/tenants/' + encodeURIComponent("x'; select 1; --"));
    expect(r.status).toBe(404);
    expect(Object.keys(r.body).toSorted()).toEqual(['instance', 'status', 'title', 'type']);
    expect(r.text).not.toMatch(/\.(ts|js):\d+|QueryFailed|syntax error/i);
  });

  it('echoes a sane caller request id and makes one otherwise', async () => {
    const given = await t.http('GET', '/health', {
      key: null,
      headers: { 'x-request-id': 'trace-abc-123' },
    });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await t.http('GET', '/health', {
      key: null,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('committed OpenAPI document', () => {
  it('matches what the server generates (run `npm run openapi` after changing routes or DTOs)', async () => {
    const { readFileSync } = await import('node:fs');
    const t = await startTestApp();
    try {
      const live = (await t.http('GET', '/openapi.json', { key: null })).body;
      const committed = JSON.parse(
        readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'),
      );
      delete live.servers;
      delete committed.servers;
      expect(live).toEqual(committed);
    } finally {
      await t.close();
    }
  });
});
