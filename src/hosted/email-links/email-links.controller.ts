import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditContextOf } from '../../audit/audit.service.js';
import { Public } from '../../auth/auth.decorators.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form } from '../kit/page-reply.js';
import { EmailLinkFlow, type LinkRequest } from './email-link.flow.js';
import { PinPatternLinkPages } from './pin-pattern-link.pages.js';
import type { LinkPurposeName } from './link-purposes.js';

function linkRequest(req: FastifyRequest): LinkRequest {
  return { cookie: req.headers.cookie, ctx: auditContextOf(req) };
}

/**
 * The pages of the mailed links of each tenant (HTML): /<tenant>/login/forgot and /reset,
 * /<tenant>/login/pin-pattern/forgot and /reset, /<tenant>/account/verify-email and
 * /confirm-email.
 */
@ApiExcludeController()
@Public()
@Controller(':tenant_id')
export class EmailLinksController {
  private readonly boundary = new PageErrorBoundary('Sign in');
  private readonly accountBoundary = new PageErrorBoundary('Account');

  constructor(
    private readonly flow: EmailLinkFlow,
    private readonly pinPattern: PinPatternLinkPages,
  ) {}

  private show(
    name: LinkPurposeName,
    t: string,
    token: unknown,
    req: FastifyRequest,
    r: FastifyReply,
  ) {
    const boundary = name === 'password-reset' ? this.boundary : this.accountBoundary;
    return boundary.reply(r, () => this.flow.show(name, t, token, req.headers.cookie));
  }

  private confirm(
    name: LinkPurposeName,
    t: string,
    body: unknown,
    req: FastifyRequest,
    r: FastifyReply,
  ) {
    const boundary = name === 'password-reset' ? this.boundary : this.accountBoundary;
    return boundary.reply(r, () => this.flow.confirm(name, t, form(body), linkRequest(req)));
  }

  @Get('login/forgot')
  showForgot(@Param('tenant_id') t: string, @Req() req: FastifyRequest, @Res() r: FastifyReply) {
    return this.boundary.reply(r, () => this.flow.showForgot(t, req.headers.cookie));
  }

  @Post('login/forgot')
  forgot(
    @Param('tenant_id') t: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.flow.forgot(t, form(body), linkRequest(req)));
  }

  @Get('login/reset')
  showReset(
    @Param('tenant_id') t: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.show('password-reset', t, token, req, r);
  }

  @Post('login/reset')
  reset(
    @Param('tenant_id') t: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.confirm('password-reset', t, body, req, r);
  }

  @Get('account/verify-email')
  showVerify(
    @Param('tenant_id') t: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.show('verify-email', t, token, req, r);
  }

  @Post('account/verify-email')
  verify(
    @Param('tenant_id') t: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.confirm('verify-email', t, body, req, r);
  }

  @Get('account/confirm-email')
  showConfirmEmail(
    @Param('tenant_id') t: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.show('confirm-email', t, token, req, r);
  }

  @Post('account/confirm-email')
  confirmEmail(
    @Param('tenant_id') t: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.confirm('confirm-email', t, body, req, r);
  }

  @Get('login/pin-pattern/forgot')
  showPinForgot(@Param('tenant_id') t: string, @Req() req: FastifyRequest, @Res() r: FastifyReply) {
    return this.boundary.reply(r, () => this.pinPattern.showForgot(t, req.headers.cookie));
  }

  @Post('login/pin-pattern/forgot')
  pinForgot(
    @Param('tenant_id') t: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.pinPattern.forgot(t, form(body), linkRequest(req)));
  }

  @Get('login/pin-pattern/reset')
  showPinReset(
    @Param('tenant_id') t: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.pinPattern.showReset(t, token, linkRequest(req)));
  }

  @Post('login/pin-pattern/reset/done')
  pinResetDone(@Param('tenant_id') t: string, @Res() r: FastifyReply) {
    return this.boundary.reply(r, () => this.pinPattern.done(t));
  }
}
