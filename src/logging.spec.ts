import { Writable } from 'node:stream';
import { createRootLogger, redactUrl } from './logging.js';

/** Reads what the real root logger writes, line by line, as parsed JSON. */
function capture(level = 'info') {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  const log = createRootLogger({ logLevel: level, env: 'test', version: '0.0.0' } as never, sink);
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe('log redaction', () => {
  it('hides the values of secret-bearing query parameters and keeps the rest', () => {
    expect(redactUrl('/acme/login/reset?token=abc123&x=1')).toBe(
      '/acme/login/reset?token=[redacted]&x=1',
    );
    expect(redactUrl('/cb?code=SplxlOB&state=xyz&iss=https%3A%2F%2Fid')).toBe(
      '/cb?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fid',
    );
    expect(redactUrl('/a/authorize?client_id=app&login_hint=alice%40x.io')).toBe(
      '/a/authorize?client_id=app&login_hint=[redacted]',
    );
    expect(redactUrl('/acme/device-link/AbC_-123/options?x=1')).toBe(
      '/acme/device-link/[redacted]/options?x=1',
    );
    expect(redactUrl('/health')).toBe('/health');
    expect(redactUrl('/x?flag')).toBe('/x?flag');
  });

  it('the root logger redacts credential headers and body fields', () => {
    const { log, lines } = capture();
    log.info({
      req: { headers: { authorization: 'Bearer idp_tn_secret', 'x-api-key': 'idp_op_secret' } },
      body: { password: 'hunter2' },
    });
    expect(lines).toHaveLength(1);
    expect(lines.join('')).not.toMatch(/idp_tn_secret|idp_op_secret|hunter2/);
  });

  it('the root logger writes request URLs with their secrets redacted, and only peer facts', () => {
    const { log, parsed } = capture();
    log.info({
      req: {
        method: 'GET',
        url: '/acme/login/reset?token=abc123',
        headers: { host: 'id.example', cookie: 'sid=s3cr3t', authorization: 'Bearer t0ken' },
        ip: '192.0.2.1',
      },
    });
    const [line] = parsed();
    expect(line.req).toEqual({
      method: 'GET',
      url: '/acme/login/reset?token=[redacted]',
      host: 'id.example',
      remoteAddress: '192.0.2.1',
    });
    expect(JSON.stringify(line)).not.toMatch(/s3cr3t|t0ken|abc123/);
    expect(line).toMatchObject({ level: 'info', service: 'idp', env: 'test' });
  });

  it('the root logger honours its level', () => {
    const { log, lines } = capture('warn');
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
  });
});
