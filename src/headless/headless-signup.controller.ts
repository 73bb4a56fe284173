import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { SignupDto, SignupPasskeyDto } from './dto/authn.dto.js';
import { caller, STEP } from './headless-caller.js';
import { HeadlessSignUp } from './headless-signup.service.js';

/** Headless sign-up: an account, and on passkey-only tenants its passkey. */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessSignupController {
  constructor(private readonly signUp: HeadlessSignUp) {}

  @Post('signup')
  @ApiProblems(400, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create an account (where the tenant allows it) and sign in',
    description:
      'With passwords off and passkeys on (a passkey-only tenant) the account takes no password and the answer is `next: signup_passkey` with `passkey_options`; answer them at authn/signup/passkey.',
  })
  @ApiOkResponse(STEP)
  signup(
    @Param('tenant_id') t: string,
    @Body() dto: SignupDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.signUp.signup(t, dto, caller(req, reply));
  }

  @Post('signup/passkey')
  @ApiProblems(400, 401, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({ summary: "Register a new account's passkey (passkey-only sign-up), then go on" })
  @ApiOkResponse(STEP)
  passkey(
    @Param('tenant_id') t: string,
    @Body() dto: SignupPasskeyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.signUp.passkey(t, dto, caller(req, reply));
  }
}
