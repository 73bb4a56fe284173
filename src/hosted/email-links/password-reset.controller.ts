import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { auditContextOf } from '../../audit/audit.service.js';
import { form, send } from '../kit/page-reply.js';
import type { PageResult } from '../kit/page-reply.js';
import { PasswordResetPages, type CookieOut } from './password-reset.pages.js';

/** The password reset pages of each tenant (HTML). */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/login')
export class PasswordResetController {
  constructor(private readonly pages: PasswordResetPages) {}

  private async run(reply: FastifyReply, step: (out: CookieOut) => Promise<PageResult>) {
    const out: CookieOut = {};
    const page = await step(out);
    if (out.setCookie) void reply.header('set-cookie', out.setCookie);
    send(reply, page);
  }

  @Get('forgot')
  showForgot(
    @Param('tenant_id') tenantId: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, (out) => this.pages.showForgot(tenantId, req.headers.cookie, out));
  }

  @Post('forgot')
  forgot(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, (out) =>
      this.pages.forgot(tenantId, form(body), req.headers.cookie, out, auditContextOf(req)),
    );
  }

  @Get('reset')
  showReset(
    @Param('tenant_id') tenantId: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, (out) => this.pages.showReset(tenantId, token, req.headers.cookie, out));
  }

  @Post('reset')
  reset(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, (out) =>
      this.pages.reset(tenantId, form(body), req.headers.cookie, out, auditContextOf(req)),
    );
  }
}
