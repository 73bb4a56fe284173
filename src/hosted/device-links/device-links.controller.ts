import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditContextOf } from '../../audit/audit.service.js';
import { Public } from '../../auth/auth.decorators.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form } from '../kit/page-reply.js';
import { DeviceLinkPages, type LinkHttp } from './device-link.pages.js';

const http = (req: FastifyRequest): LinkHttp => ({
  cookie: req.headers.cookie,
  ctx: auditContextOf(req),
});

/** The landing page of device links (HTML, plus the JSON options its script fetches). */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/device-link')
export class DeviceLinksPagesController {
  private readonly boundary = new PageErrorBoundary('Sign in');

  constructor(private readonly pages: DeviceLinkPages) {}

  @Get(':token')
  show(
    @Param('tenant_id') t: string,
    @Param('token') token: string,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.pages.show(t, token, http(req)));
  }

  @Post(':token/options')
  options(
    @Param('tenant_id') t: string,
    @Param('token') token: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.pages.options(t, token, form(body), http(req)));
  }

  @Post(':token')
  register(
    @Param('tenant_id') t: string,
    @Param('token') token: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.pages.register(t, token, form(body), http(req)));
  }
}
