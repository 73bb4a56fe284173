import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { auditContextOf, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal, Public, Self } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { notFound } from '../common/problem.js';
import {
  AcceptedDto,
  EmailChangeDto,
  EmailChangedDto,
  PasswordResetConfirmDto,
  PasswordResetRequestDto,
  TokenDto,
  VerifiedDto,
} from './dto/email-flows.dto.js';
import { EmailFlowsService } from './email-flows.service.js';
import { ApiProblems } from '../common/api-docs.js';

/*
 * The @Public() POST routes here (password-reset, email/verify, email/confirm-change,
 * password-reset/confirm) take guesses from anyone: they pass the request's address so the
 * service counts them per IP in the brute-force blocker (429 with Retry-After past the limit).
 */

@ApiTags('email')
@Controller('api/v1/tenants/:tenant_id')
export class EmailFlowsController {
  constructor(private readonly flows: EmailFlowsService) {}

  @Post('users/:user_id/send-verification')
  @ApiOperation({ summary: 'Mail a user an address verification link' })
  @ApiProblems(404, 429, 503)
  @HttpCode(202)
  @Authenticated({ scope: 'users:write' })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'a verification link was mailed' })
  async sendVerification(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
  ): Promise<AcceptedDto> {
    await this.flows.sendVerification(tenantId, userId);
    return { status: 'accepted', detail: 'A verification link was sent to the user' };
  }

  @Post('email/verify')
  @ApiOperation({ summary: 'Verify an email address with a mailed token' })
  @ApiProblems(400, 404, 429)
  @HttpCode(200)
  @Public()
  @ApiOkResponse({ type: VerifiedDto, description: 'the address is verified' })
  async verify(
    @Param('tenant_id') tenantId: string,
    @Body() dto: TokenDto,
    @Req() req: FastifyRequest,
  ): Promise<VerifiedDto> {
    await this.flows.verify(tenantId, dto.token, auditContextOf(req));
    return { verified: true };
  }

  @Post('password-reset')
  @ApiOperation({ summary: 'Request a password reset link' })
  @ApiProblems(400, 404, 429, 503)
  @HttpCode(202)
  @Public()
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description: 'the same answer whether or not an account has the address',
  })
  async requestReset(
    @Param('tenant_id') tenantId: string,
    @Body() dto: PasswordResetRequestDto,
    @Req() req: FastifyRequest,
  ): Promise<AcceptedDto> {
    await this.flows.requestPasswordReset(tenantId, dto.email, auditContextOf(req));
    return {
      status: 'accepted',
      detail: 'If an account has this address, a link to reset its password is on its way',
    };
  }

  @Post('password-reset/confirm')
  @ApiOperation({ summary: 'Set a new password with a mailed reset token' })
  @ApiProblems(400, 404, 429)
  @HttpCode(204)
  @Public()
  @ApiNoContentResponse({ description: 'the password is changed; the link is spent' })
  async confirmReset(
    @Param('tenant_id') tenantId: string,
    @Body() dto: PasswordResetConfirmDto,
    @Req() req: FastifyRequest,
  ) {
    await this.flows.confirmPasswordReset(tenantId, dto.token, dto.password, auditContextOf(req));
  }

  @Post('me/email')
  @ApiOperation({
    summary: 'Request a change of the caller’s email address',
    description:
      'A user who has a PIN/pattern must prove it first (POST /{tenant_id}/authn/zkp/aux-challenge, then aux-authenticate) at most five minutes before; otherwise 403 with type urn:idp:problem:pin-pattern-proof-required. The proof is spent by this request.',
  })
  @ApiProblems(400, 403, 404, 409, 429, 503)
  @HttpCode(202)
  @Self('me:credentials')
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description: 'a confirmation link went to the new address',
  })
  async requestChange(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: EmailChangeDto,
    @Req() req: FastifyRequest,
  ): Promise<AcceptedDto> {
    if (!me.userId) throw notFound('User');
    await this.flows.requestEmailChange(
      tenantId,
      me.userId,
      dto.new_email,
      requestContextOf(req, me),
    );
    return {
      status: 'accepted',
      detail: 'Open the link sent to the new address to confirm the change',
    };
  }

  @Post('email/confirm-change')
  @ApiOperation({ summary: 'Confirm an email address change with a mailed token' })
  @ApiProblems(400, 404, 409, 429)
  @HttpCode(200)
  @Public()
  @ApiOkResponse({ type: EmailChangedDto, description: 'the new address is in place and verified' })
  confirmChange(
    @Param('tenant_id') tenantId: string,
    @Body() dto: TokenDto,
    @Req() req: FastifyRequest,
  ) {
    return this.flows.confirmEmailChange(tenantId, dto.token, auditContextOf(req));
  }
}
