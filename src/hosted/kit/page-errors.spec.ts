import Fastify, { type FastifyInstance } from 'fastify';
import { Logger } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import { notFound } from '../../common/problem.js';
import { PageErrorBoundary } from './page-errors.js';
import type { PageReply } from './page-reply.js';

describe('the hosted pages error boundary', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const boundary = new PageErrorBoundary('Account');
    const route = (path: string, step: () => Promise<PageReply>) =>
      app.get(path, (_req, reply) => boundary.reply(reply, step));
    app = Fastify();
    route('/boom', () => Promise.reject(new Error('relation "users" does not exist at /srv/db')));
    route('/limit', () =>
      Promise.reject(new DomainError('too-many', 'mail-limit', 'bucket mail:alice full')),
    );
    route('/gone', () => Promise.reject(notFound('Passkey')));
    route('/ok', () =>
      Promise.resolve({ status: 200, html: '<p>ok</p>', setCookie: 'c=1; Path=/; HttpOnly' }),
    );
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    Logger.overrideLogger(['error', 'warn', 'log']);
  });

  it('answers an unexpected error with an HTML 500 page that shows no internals', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('Something went wrong on our side');
    expect(res.body).toContain('<code>server_error</code>');
    expect(res.body).not.toContain('/srv/db');
    expect(res.body).not.toContain('problem');
  });

  it('answers a domain error with the page of its kind, never a JSON problem', async () => {
    const limit = await app.inject({ method: 'GET', url: '/limit' });
    expect(limit.statusCode).toBe(429);
    expect(limit.headers['content-type']).toMatch(/^text\/html/);
    expect(limit.body).toContain('Too many attempts. Try again later.');
    expect(limit.body).toContain('<code>mail-limit</code>');
    expect(limit.body).not.toContain('bucket mail:alice');

    const gone = await app.inject({ method: 'GET', url: '/gone' });
    expect(gone.statusCode).toBe(404);
    expect(gone.headers['content-type']).toMatch(/^text\/html/);
    expect(gone.body).toContain('There is nothing here.');
  });

  it('sends the page of a step that succeeds, with its cookie', async () => {
    const res = await app.inject({ method: 'GET', url: '/ok' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['set-cookie']).toBe('c=1; Path=/; HttpOnly');
    expect(res.body).toBe('<p>ok</p>');
  });
});
