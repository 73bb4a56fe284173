import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
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
  AuthenticateDto,
  AuthenticatedDto,
  AuthReqQueryDto,
  AuxAuthenticateDto,
  AuxChallengeDto,
  ChallengeAnswerDto,
  ChallengeDto,
  ChangedDto,
  ChangeDto,
  ChangeStartDto,
  PinPatternStatusDto,
  RegisteredDto,
  RegisterDto,
  RegisterStartAnswerDto,
  RegisterStartDto,
  VerifiedDto,
} from './dto/pin-pattern.dto.js';
import { PinPatternService } from './pin-pattern.service.js';
import { ApiProblems } from '../common/api-docs.js';

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

/*
 * The public routes take guesses from anyone: every challenge is counted by the brute-force
 * blocker per IP and per login (429 with Retry-After past the limit), see PinPatternService.
 */

/** PIN/pattern sign-in (OPAQUE), the seed's `/authn/zkp` contract. */
@ApiTags('pin-pattern')
@Controller(':tenant_id/authn/zkp')
export class PinPatternController {
  constructor(private readonly pinPattern: PinPatternService) {}

  @Post('register/start')
  @ApiProblems(400, 403, 404, 409)
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign-up with a PIN/pattern, step 1: the OPAQUE registration response',
    description: 'Only where the tenant allows sign-up (register_enable).',
  })
  @ApiOkResponse({ type: RegisterStartAnswerDto })
  registerStart(@Param('tenant_id') tenantId: string, @Body() dto: RegisterStartDto) {
    return this.pinPattern.registerStart(
      tenantId,
      { username: dto.username },
      dto.registration_request,
    );
  }

  @Post('register')
  @ApiProblems(400, 403, 404, 409)
  @Public()
  @ApiOperation({
    summary: 'Sign-up with a PIN/pattern, step 2: creates the user with the registration record',
  })
  @ApiCreatedResponse({ type: RegisteredDto })
  register(
    @Param('tenant_id') tenantId: string,
    @Query() _q: AuthReqQueryDto,
    @Body() dto: RegisterDto,
    @Req() req: FastifyRequest,
  ): Promise<RegisteredDto> {
    return this.pinPattern.registerNewUser(
      tenantId,
      {
        username: dto.username,
        email: dto.email,
        record: dto.encrypted_commitment,
        protoVersion: dto.proto_version,
      },
      auditContextOf(req),
    );
  }

  @Post('challenge')
  @ApiProblems(400, 403, 404, 429)
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign-in step 1: the OPAQUE credential response for a username',
    description:
      'An unknown username gets an answer of the same shape that can never be finished. Counted by the blocker until step 2 succeeds.',
  })
  @ApiOkResponse({ type: ChallengeAnswerDto })
  challenge(
    @Param('tenant_id') tenantId: string,
    @Query() q: AuthReqQueryDto,
    @Body() dto: ChallengeDto,
    @Req() req: FastifyRequest,
  ): Promise<ChallengeAnswerDto> {
    return this.pinPattern.challenge(
      tenantId,
      dto.username,
      dto.cipherKey,
      q.auth_req_id ?? null,
      auditContextOf(req),
    );
  }

  @Post('authenticate')
  @ApiProblems(400, 401, 403, 404, 429)
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Sign-in step 2: the OPAQUE finalisation; answers a single-use sign-in nonce',
    description:
      'The nonce finishes the authorisation named by the same auth_req_id (GET sign-in), once, within two minutes.',
  })
  @ApiOkResponse({ type: AuthenticatedDto })
  authenticate(
    @Param('tenant_id') tenantId: string,
    @Query() q: AuthReqQueryDto,
    @Body() dto: AuthenticateDto,
    @Req() req: FastifyRequest,
  ): Promise<AuthenticatedDto> {
    return this.pinPattern.authenticate(
      tenantId,
      {
        login: dto.username,
        cipherKey: dto.cipherKey,
        challengeId: dto.challenge_id,
        finalization: dto.challenge_data,
      },
      q.auth_req_id ?? null,
      auditContextOf(req),
    );
  }

  @Get('me')
  @Self('me:read')
  @ApiOperation({ summary: 'Whether the caller has a PIN/pattern, and of which factors' })
  @ApiOkResponse({ type: PinPatternStatusDto })
  status(@Param('tenant_id') tenantId: string, @CurrentPrincipal() me: Principal) {
    return this.pinPattern.status(tenantId, selfId(me));
  }

  @Post('change/start')
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOperation({ summary: "Set or change the caller's PIN/pattern, step 1" })
  @ApiOkResponse({ type: RegisterStartAnswerDto })
  changeStart(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: ChangeStartDto,
  ) {
    return this.pinPattern.registerStart(
      tenantId,
      { userId: selfId(me) },
      dto.registration_request,
    );
  }

  @Post('change')
  @HttpCode(200)
  @Self('me:credentials')
  @ApiOperation({ summary: "Set or change the caller's PIN/pattern, step 2: the new record" })
  @ApiOkResponse({ type: ChangedDto })
  change(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: ChangeDto,
    @Req() req: FastifyRequest,
  ) {
    return this.pinPattern.setForUser(
      tenantId,
      selfId(me),
      { record: dto.encrypted_commitment, protoVersion: dto.proto_version },
      requestContextOf(req, me),
    );
  }

  @Post('aux-challenge')
  @HttpCode(200)
  @Self('me:read')
  @ApiOperation({
    summary: 'Re-prove the PIN/pattern while signed in, step 1 (e.g. before changing email)',
  })
  @ApiOkResponse({ type: ChallengeAnswerDto })
  auxChallenge(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: AuxChallengeDto,
    @Req() req: FastifyRequest,
  ) {
    return this.pinPattern.auxChallenge(tenantId, selfId(me), dto.cipherKey, auditContextOf(req));
  }

  @Post('aux-authenticate')
  @HttpCode(200)
  @Self('me:read')
  @ApiOperation({ summary: 'Re-prove the PIN/pattern while signed in, step 2' })
  @ApiOkResponse({ type: VerifiedDto })
  auxAuthenticate(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() me: Principal,
    @Body() dto: AuxAuthenticateDto,
    @Req() req: FastifyRequest,
  ) {
    return this.pinPattern.auxVerify(
      tenantId,
      selfId(me),
      { challengeId: dto.challenge_id, finalization: dto.challenge_data },
      auditContextOf(req),
    );
  }
}

/** An admin's reset: the user's PIN/pattern is removed; they enrol again after signing in. */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/pin-pattern')
export class UserPinPatternAdminController {
  constructor(private readonly pinPattern: PinPatternService) {}

  @Get()
  @Authenticated({ scope: 'users:read' })
  @ApiOperation({ summary: 'Whether a user has a PIN/pattern (never the record)' })
  @ApiOkResponse({ type: PinPatternStatusDto })
  status(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.pinPattern.status(tenantId, userId);
  }

  @Delete()
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiOperation({ summary: "Reset a user's PIN/pattern" })
  @ApiNoContentResponse({ description: 'removed' })
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.pinPattern.remove(tenantId, userId, requestContextOf(req, principal));
  }
}
