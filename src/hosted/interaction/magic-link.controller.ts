import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { form, pageRequest, type PageReply } from '../kit/page-reply.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { MagicLinkStep } from './magic-link.step.js';

/** The hosted pages of sign-in links by mail (MagicLinkStep); HTML, not part of the JSON API. */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid/login/magic-link')
export class MagicLinkController {
  private readonly boundary = new PageErrorBoundary('Sign in');

  constructor(private readonly step: MagicLinkStep) {}

  private run(reply: FastifyReply, step: () => Promise<PageReply>) {
    return this.boundary.reply(reply, step);
  }

  @Get()
  show(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.step.show(tenantId, uid, pageRequest(req, reply)));
  }

  @Post()
  request(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.request(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('code')
  code(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.code(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('open')
  open(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.step.open(tenantId, uid, token, pageRequest(req, reply)));
  }

  @Post('open')
  confirm(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.confirm(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }
}
