import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from './config/config.js';

/** Header and body fields that must never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.api_key',
  '*.secret',
  '*.token',
];

/** Query parameters that carry secrets (mailed links, OAuth codes and tokens): never logged. */
const SECRET_PARAMS =
  /^(token|code|code_verifier|client_secret|password|access_token|refresh_token|id_token_hint|id_token|state|user_code|login_hint|email_hint)$/i;

/** Paths that carry a secret as a segment: the device link's token (/<t>/device-link/<token>). */
const SECRET_SEGMENT = /^(\/[^/?#]+\/device-link\/)[^/?#]+/;

/** A request URL with the values of secret-bearing query parameters (and path tokens) replaced. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url && SECRET_SEGMENT.test(url)) url = url.replace(SECRET_SEGMENT, '$1[redacted]');
  if (!url || !url.includes('?')) return url;
  const [path, query] = url.split('?', 2);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return eq >= 0 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${path}?${redacted}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/**
 * The one logger every line goes through (request logs, Nest's own, the services'). `destination`
 * defaults to stdout; the spec passes a sink to read what would be written.
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel' | 'env' | 'version'>,
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    base: { service: 'idp', version: config.version, env: config.env },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Fastify logs `{req}` on every request: method, redacted URL, host and peer only.
    serializers: {
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.headers?.host,
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Lets Nest's Logger write through the same pino instance as the request logs. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const logger = context ? this.root.child({ context }) : this.root;
    if (message && typeof message === 'object' && !(message instanceof Error)) {
      const msg = typeof rest[0] === 'string' ? (rest[0] as string) : undefined;
      logger[level](message as object, msg);
    } else if (message instanceof Error) {
      logger[level]({ err: message }, message.message);
    } else {
      logger[level](String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    // Nest passes (message, stack, context); the stack goes to the log, never to a client.
    this.write(
      'error',
      message,
      rest.filter((r, i) => !(i === 0 && typeof r === 'string' && r.includes('\n    at '))),
    );
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
