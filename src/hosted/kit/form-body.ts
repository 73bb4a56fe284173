import type { FastifyInstance } from 'fastify';

const FORM = 'application/x-www-form-urlencoded';

/** Routes that take HTML form posts (forward-auth: an app's sign-out button; eam: Entra's MFA; device-link: the device link page; upstream: form_post callbacks, Connect); the API stays JSON-only. */
const FORM_ROUTES =
  /^\/[^/?#]+\/(?:interaction|login|account|eam|forward-auth|device-link|upstream)(?:\/|$)/;

/**
 * A urlencoded body parser for the hosted pages only, in place of the one Nest registers for
 * every route. @fastify/formbody cannot be scoped to some routes here (Nest registers every
 * route in the root Fastify context), so the parser answers 415 for any other path: the API
 * stays JSON-only. oidc-provider's own endpoints
 * never get here: they are taken before Fastify (oidc.mount.ts) and read the stream themselves.
 */
export function registerLoginForms(fastify: FastifyInstance) {
  if (fastify.hasContentTypeParser(FORM)) fastify.removeContentTypeParser(FORM);
  fastify.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (request, body, done) => {
      if (!FORM_ROUTES.test(request.url)) {
        const err = Object.assign(new Error('Unsupported Media Type'), {
          statusCode: 415,
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        });
        done(err, undefined);
        return;
      }
      const fields: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) fields[k] ??= v;
      done(null, fields);
    },
  );
}
