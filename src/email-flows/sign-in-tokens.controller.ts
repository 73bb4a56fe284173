import { Body, Controller, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditService, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ApiProblems } from '../common/api-docs.js';
import { notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UsersService } from '../users/users.service.js';
import { CreateSignInTokenDto, SignInTokenDto } from './dto/sign-in-tokens.dto.js';
import { MagicLinksService } from './magic-links.service.js';

const DEFAULT_TTL_SECONDS = 900;

/** An admin's one-time sign-in token for a user, for support flows (decision 0032). */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/sign-in-tokens')
export class SignInTokensController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly links: MagicLinksService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Issue a one-time sign-in token for a user (support)',
    description:
      'The token signs the user in once, until expires_at, through the hosted `url` (the second factor still applies). It is in this answer only; issuing and using it are audited.',
  })
  @ApiProblems(400, 403, 404)
  @Authenticated({ scope: 'users:write' })
  @ApiCreatedResponse({ type: SignInTokenDto })
  async create(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: CreateSignInTokenDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<SignInTokenDto> {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    const ctx = requestContextOf(req, principal);
    const { token, expiresAt } = await this.links.issueAdmin(
      tenantId,
      user.user_id,
      dto.expires_in ?? DEFAULT_TTL_SECONDS,
      ctx.actorId ?? null,
    );
    this.audit.recordForUser(
      tenantId,
      user.user_id,
      'sign_in_token.created',
      ctx,
      'sign_in_token',
      {
        expires_at: expiresAt.toISOString(),
      },
    );
    return {
      token,
      url: `${this.config.publicUrl}/${tenantId}/login/sign-in-token?token=${token}`,
      expires_at: expiresAt.toISOString(),
    };
  }
}
