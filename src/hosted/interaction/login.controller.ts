import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { ConsentStep } from './consent.step.js';
import { EmailCodeStep } from './email-code.step.js';
import { EnrolmentStep } from './enrolment.step.js';
import { FirstFactorStep } from './first-factor.step.js';
import { InteractionContext } from './interaction-context.js';
import { SignInProgress } from './progress.js';
import { SecondFactorStep } from './second-factor.step.js';
import { SignupStep } from './signup.step.js';
import { form, pageRequest, type PageResult } from '../kit/page-reply.js';
import { PageErrorBoundary } from '../kit/page-errors.js';

/**
 * The hosted sign-in pages of each tenant (HTML, not part of the JSON API): each route hands
 * its request to the step that owns it; an unexpected error still answers an HTML page.
 */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid')
export class LoginController {
  constructor(
    private readonly context: InteractionContext,
    private readonly firstFactor: FirstFactorStep,
    private readonly emailCode: EmailCodeStep,
    private readonly secondFactor: SecondFactorStep,
    private readonly enrolment: EnrolmentStep,
    private readonly progress: SignInProgress,
    private readonly signup: SignupStep,
    private readonly consent: ConsentStep,
  ) {}

  private readonly boundary = new PageErrorBoundary('Sign in');

  private run(reply: FastifyReply, step: () => Promise<PageResult>) {
    return this.boundary.reply(reply, step);
  }

  @Get()
  show(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.context.show(tenantId, uid, pageRequest(req, reply)));
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
      this.firstFactor.submit(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.consent.submit(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.firstFactor.passkeyOptions(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('login/email-code')
  showEmailCode(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.emailCode.show(tenantId, uid, pageRequest(req, reply)));
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
      this.emailCode.request(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.emailCode.verify(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.secondFactor.submit(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.enrolment.submit(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.progress.continue(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('signup')
  showSignup(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () => this.signup.show(tenantId, uid, pageRequest(req, reply)));
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
      this.signup.submit(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.signup.passkeyOptions(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.signup.passkey(tenantId, uid, form(body), pageRequest(req, reply)),
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
      this.context.abort(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }
}
