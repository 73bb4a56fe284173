import { Writable } from 'node:stream';
import pino from 'pino';
import { redactUrl, REDACT_PATHS } from './logging.js';

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
    expect(redactUrl('/health')).toBe('/health');
    expect(redactUrl('/x?flag')).toBe('/x?flag');
  });

  it('redacts credential headers and body fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({
      req: { headers: { authorization: 'Bearer idp_tn_secret', 'x-api-key': 'idp_op_secret' } },
      body: { password: 'hunter2' },
    });
    expect(lines.join('')).not.toMatch(/idp_tn_secret|idp_op_secret|hunter2/);
  });
});
