import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { LoginService } from './login.service.js';
import { form, pageRequest, send, type PageResult } from '../kit/page-reply.js';

/** The hosted sign-in pages of each tenant (HTML, not part of the JSON API). */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid')
export class LoginController {
  constructor(private readonly login: LoginService) {}

  private async run(reply: FastifyReply, step: () => Promise<PageResult>) {
    let page: PageResult;
    try {
      page = await step();
    } catch (err) {
      page = this.login.unexpected(err);
    }
    send(reply, page);
  }

  @Get()
  show(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.login.show(tenantId, uid, pageRequest(req, reply)));
  }

  @Post('login')
  submitLogin(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.login(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('consent')
  submitConsent(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.consent(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('login/passkey-options')
  passkeyOptions(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.passkeyLoginOptions(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('login/email-code')
  showEmailCode(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.login.showEmailCode(tenantId, uid, pageRequest(req, reply)));
  }

  @Post('login/email-code')
  requestEmailCode(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.requestEmailCode(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('login/email-code/verify')
  verifyEmailCode(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.verifyEmailCode(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('second-factor')
  submitSecondFactor(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.secondFactor(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('enrol')
  submitEnrol(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.enrol(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('continue')
  submitContinue(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.continue(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('signup')
  showSignup(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.login.showSignup(tenantId, uid, pageRequest(req, reply)));
  }

  @Post('signup')
  submitSignup(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.signup(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('signup/passkey-options')
  signupPasskeyOptions(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.signupPasskeyOptions(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('signup/passkey')
  submitSignupPasskey(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.signupPasskey(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('abort')
  abort(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.login.abort(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }
}
