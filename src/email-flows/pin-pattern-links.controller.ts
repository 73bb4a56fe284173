import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { auditContextOf, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal, Public } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ApiProblems } from '../common/api-docs.js';
import { ChangedDto, RegisterStartAnswerDto } from '../pin-pattern/dto/pin-pattern.dto.js';
import { AcceptedDto } from './dto/email-flows.dto.js';
import {
  CreatePinPatternLinkDto,
  PinPatternLinkDto,
  PinPatternLinkFinishDto,
  PinPatternLinkStartDto,
  PinPatternResetRequestDto,
} from './dto/pin-pattern-links.dto.js';
import { PinPatternLinksService } from './pin-pattern-links.service.js';

/*
 * The @Public() routes take guesses from anyone: they pass the request's address, so the
 * service counts reset requests and wrong tokens per IP in the brute-force blocker (429 with
 * Retry-After past the limit).
 */

/** PIN/pattern reset through a mailed link (the seed's zkp contract, extended). */
@ApiTags('pin-pattern')
@Controller(':tenant_id/authn/zkp/reset')
export class PinPatternLinksController {
  constructor(private readonly links: PinPatternLinksService) {}

  @Post()
  @ApiOperation({
    summary: 'Forgot PIN/pattern: mail a single-use link to set a new one',
    description:
      'The same answer whether or not an account has the address; the link lives 30 minutes.',
  })
  @ApiProblems(400, 403, 404, 429, 503)
  @HttpCode(202)
  @Public()
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description: 'the same answer whether or not an account has the address',
  })
  async request(
    @Param('tenant_id') tenantId: string,
    @Body() dto: PinPatternResetRequestDto,
    @Req() req: FastifyRequest,
  ): Promise<AcceptedDto> {
    await this.links.requestReset(tenantId, dto.email, auditContextOf(req));
    return {
      status: 'accepted',
      detail: 'If an account with a PIN/pattern has this address, a link is on its way',
    };
  }

  @Post('start')
  @ApiOperation({
    summary: 'Set a PIN/pattern with a mailed link, step 1: the OPAQUE registration response',
    description: 'Checks the link (reset or admin enrolment link) without spending it.',
  })
  @ApiProblems(400, 403, 404, 429)
  @HttpCode(200)
  @Public()
  @ApiOkResponse({ type: RegisterStartAnswerDto })
  start(
    @Param('tenant_id') tenantId: string,
    @Body() dto: PinPatternLinkStartDto,
    @Req() req: FastifyRequest,
  ) {
    return this.links.start(tenantId, dto.token, dto.registration_request, auditContextOf(req));
  }

  @Post('finish')
  @ApiOperation({
    summary: 'Set a PIN/pattern with a mailed link, step 2: the new record; spends the link',
  })
  @ApiProblems(400, 403, 404, 429)
  @HttpCode(200)
  @Public()
  @ApiOkResponse({ type: ChangedDto })
  finish(
    @Param('tenant_id') tenantId: string,
    @Body() dto: PinPatternLinkFinishDto,
    @Req() req: FastifyRequest,
  ) {
    return this.links.finish(
      tenantId,
      dto.token,
      { record: dto.encrypted_commitment, protoVersion: dto.proto_version },
      auditContextOf(req),
    );
  }
}

/** An admin's one-time enrolment link for a user. */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/pin-pattern-links')
export class UserPinPatternLinksController {
  constructor(private readonly links: PinPatternLinksService) {}

  @Post()
  @ApiOperation({
    summary: 'Send a user a one-time link to set or replace their PIN/pattern',
    description:
      'The link works once, until expires_at, without signing in. Its url is in this answer only; it is mailed to the user when they have an address and mail is configured.',
  })
  @ApiProblems(400, 403, 404)
  @Authenticated({ scope: 'users:write' })
  @ApiCreatedResponse({ type: PinPatternLinkDto })
  create(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: CreatePinPatternLinkDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<PinPatternLinkDto> {
    return this.links.createAdminLink(
      tenantId,
      userId,
      dto.expires_in,
      requestContextOf(req, principal),
    );
  }
}
