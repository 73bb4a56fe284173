import { DomainError } from './domain-error.js';
import { toProblemException } from './problem.filter.js';
import { notFound, ProblemException } from './problem.js';

describe('domain errors in the API', () => {
  it('renders a domain error as a problem: status by kind, type by code, Retry-After', () => {
    const p = toProblemException(
      new DomainError('too-many', 'mail-limit', 'Too many mails', { retryAfterSeconds: 30 }),
    );
    expect(p.status).toBe(429);
    expect(p.headers).toEqual({ 'retry-after': '30' });
    expect(p.toProblem('/x')).toEqual({
      type: 'urn:idp:problem:mail-limit',
      title: 'Too many requests',
      status: 429,
      detail: 'Too many mails',
      instance: '/x',
    });
    const fields = [{ field: 'email', message: 'already in use' }];
    const c = toProblemException(new DomainError('conflict', 'conflict', 'In use', { fields }));
    expect(c.toProblem()).toMatchObject({ status: 409, errors: fields });
  });

  it('an API problem is also a domain error, its kind read from the status', () => {
    const e = new ProblemException(404, 'not-found', 'User not found');
    expect(e).toBeInstanceOf(DomainError);
    expect(e.kind).toBe('not-found');
    expect(toProblemException(e)).toBe(e);
  });

  it('the usual refusals are domain errors with no HTTP in them, answered as before', () => {
    const e = notFound('User');
    expect(e).toBeInstanceOf(DomainError);
    expect(e).not.toBeInstanceOf(ProblemException);
    expect(toProblemException(e).toProblem()).toEqual({
      type: 'urn:idp:problem:not-found',
      title: 'User not found',
      status: 404,
    });
  });
});
