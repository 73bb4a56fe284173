import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form, pageRequest, type PageReply } from '../kit/page-reply.js';
import { UpstreamCompletionStep } from './upstream-completion.step.js';
import { UpstreamLink } from './upstream-link.js';
import { UpstreamFlow } from './upstream.flow.js';

/** Query or form fields as the callback reads them (strings only, first value). */
function paramsOf(source: unknown): URLSearchParams {
  const params = new URLSearchParams();
  if (source && typeof source === 'object') {
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const value = Array.isArray(v) ? v[0] : v;
      if (typeof value === 'string' && value.length <= 8192) params.set(k, value);
    }
  }
  return params;
}

/**
 * The routes of upstream sign-in under the tenant's path (HTML, not part of the JSON API): the
 * sign-in page's button (`start`), the upstream's return (`callback`, GET or POST for
 * form_post) and the account page's "Connect" (`link`).
 */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/upstream/:provider_id')
export class UpstreamController {
  constructor(
    private readonly flow: UpstreamFlow,
    private readonly link: UpstreamLink,
  ) {}

  private readonly boundary = new PageErrorBoundary('Sign in');

  private run(reply: FastifyReply, step: () => Promise<PageReply>) {
    return this.boundary.reply(reply, step);
  }

  @Get('start')
  start(
    @Param('tenant_id') t: string,
    @Param('provider_id') p: string,
    @Query('interaction') uid: unknown,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.flow.start(t, p, uid));
  }

  @Get('callback')
  callbackGet(
    @Param('tenant_id') t: string,
    @Param('provider_id') p: string,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.callback(t, p, paramsOf(query), req, reply);
  }

  @Post('callback')
  callbackPost(
    @Param('tenant_id') t: string,
    @Param('provider_id') p: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.callback(t, p, paramsOf(body), req, reply);
  }

  private callback(
    t: string,
    p: string,
    params: URLSearchParams,
    req: FastifyRequest,
    reply: FastifyReply,
  ) {
    const http = { ...pageRequest(req, reply), cookie: req.headers.cookie };
    return this.run(reply, () =>
      this.flow.callback(t, p, params, http, (at, flow, profile) =>
        this.link.finish(at, flow, profile, http),
      ),
    );
  }

  @Get('link')
  showLink(
    @Param('tenant_id') t: string,
    @Param('provider_id') p: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.link.show(t, p, pageRequest(req, reply)));
  }

  @Post('link')
  beginLink(
    @Param('tenant_id') t: string,
    @Param('provider_id') p: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.link.begin(t, p, form(body), pageRequest(req, reply)));
  }
}

/** The interaction's own route where an upstream sign-in finishes (UpstreamCompletionStep). */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid/upstream')
export class UpstreamInteractionController {
  constructor(private readonly step: UpstreamCompletionStep) {}

  private readonly boundary = new PageErrorBoundary('Sign in');

  @Get()
  complete(
    @Param('tenant_id') t: string,
    @Param('uid') uid: string,
    @Query('result') result: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.boundary.reply(reply, () =>
      this.step.complete(t, uid, result, pageRequest(req, reply)),
    );
  }
}
