import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { form, pageRequest, type PageReply } from '../kit/page-reply.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { SignInTokenStep } from './sign-in-token.step.js';

/** The hosted page of an admin-issued sign-in token (SignInTokenStep); HTML only. */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/login/sign-in-token')
export class SignInTokenController {
  private readonly boundary = new PageErrorBoundary('Sign in');

  constructor(private readonly step: SignInTokenStep) {}

  private run(reply: FastifyReply, step: () => Promise<PageReply>) {
    return this.boundary.reply(reply, step);
  }

  @Get()
  show(
    @Param('tenant_id') tenantId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.step.show(tenantId, query ?? {}, pageRequest(req, reply)));
  }

  @Post()
  submit(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.step.submit(tenantId, form(body), pageRequest(req, reply)));
  }
}
