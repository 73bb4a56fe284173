import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuditService, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { ApiProblems } from '../common/api-docs.js';
import { ListQuery, page, type Page } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UsersService } from '../users/users.service.js';
import {
  CreateSignInTokenDto,
  SignInTokenDto,
  SignInTokenInfoDto,
  SignInTokenPageDto,
} from './dto/sign-in-tokens.dto.js';
import { MagicLinksService } from './magic-links.service.js';
import type { SignInLinkEntity } from './sign-in-link.entity.js';

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
    const { id, token, expiresAt } = await this.links.issueAdmin(
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
      { token_id: id, expires_at: expiresAt.toISOString() },
    );
    return {
      id,
      token,
      url: `${this.config.publicUrl}/${tenantId}/login/sign-in-token?token=${token}`,
      expires_at: expiresAt.toISOString(),
    };
  }

  @Get()
  @ApiOperation({
    summary: "List a user's support sign-in tokens",
    description:
      'Issued tokens with their state (active, used, expired), never the tokens themselves. Spent and expired tokens are swept a day after they expire.',
  })
  @ApiProblems(400, 403, 404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: SignInTokenPageDto })
  async list(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Query() q: ListQuery,
  ): Promise<Page<SignInTokenInfoDto>> {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    const [rows, total] = await this.links.listAdmin(tenantId, user.user_id, q);
    return page(rows.map(toInfo), total, q);
  }

  @Delete(':token_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke a support sign-in token',
    description: 'The token stops working at once, used or not; revoking is audited.',
  })
  @ApiProblems(403, 404)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse()
  async revoke(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Param('token_id') tokenId: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) throw notFound('User');
    if (!(await this.links.revokeAdmin(tenantId, user.user_id, tokenId)))
      throw notFound('Sign-in token');
    this.audit.recordForUser(
      tenantId,
      user.user_id,
      'sign_in_token.revoked',
      requestContextOf(req, principal),
      'sign_in_token',
      { token_id: tokenId },
    );
  }
}

function toInfo(row: SignInLinkEntity): SignInTokenInfoDto {
  const expiresAt = new Date(row.expires_at);
  return {
    id: row.link_id,
    state: row.consumed_at ? 'used' : expiresAt.getTime() <= Date.now() ? 'expired' : 'active',
    created_at: new Date(row.created_at).toISOString(),
    expires_at: expiresAt.toISOString(),
    used_at: row.consumed_at ? new Date(row.consumed_at).toISOString() : null,
    created_by: row.created_by,
  };
}
