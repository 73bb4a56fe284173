import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
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
import { SkipAdminAudit } from '../audit/admin-audit.interceptor.js';
import { AuditService, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import {
  BatchCreateResultDto,
  BatchCreateUsersDto,
  BatchDeleteResultDto,
  BatchDeleteUsersDto,
  CreateUserDto,
  ReplaceUserDto,
  SetPasswordDto,
  UpdateUserDto,
  UserDto,
  UserListQuery,
  UserPageDto,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';
import { ApiProblems } from '../common/api-docs.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';

@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  /** Batches are logged per user, as the single routes are, so each user's history is whole. */
  private recordEach(
    tenantId: string,
    type: string,
    userIds: string[],
    req: FastifyRequest,
    principal: Principal,
  ) {
    const ctx = requestContextOf(req, principal);
    for (const userId of userIds) {
      this.audit.record({
        tenantId,
        type,
        actorType: ctx.actorType,
        actorId: ctx.actorId,
        subjectType: 'user',
        subjectId: userId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        outcome: 'success',
        method: 'api',
        details: { batch: true },
      });
    }
  }

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'users:write' })
  @ApiCreatedResponse({ type: UserDto })
  create(@Param('tenant_id') tenantId: string, @Body() dto: CreateUserDto) {
    return this.users.create(tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List users' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: UserListQuery) {
    return this.users.list(tenantId, q);
  }

  @Post('batch')
  @ApiOperation({ summary: 'Create up to 1,000 users in one request' })
  @ApiProblems(400, 404, 413)
  @HttpCode(200)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({
    type: BatchCreateResultDto,
    description: 'every valid user is created; failures carry a reason each',
  })
  @SkipAdminAudit()
  @Idempotent()
  async batchCreate(
    @Param('tenant_id') tenantId: string,
    @Body() dto: BatchCreateUsersDto,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    // Recorded inside the batch's transaction: the events commit with the users (decision 0023).
    return this.users.batchCreate(tenantId, dto.users, (ids) =>
      this.recordEach(tenantId, 'admin.user.create', ids, req, principal),
    );
  }

  @Post('batch-delete')
  @ApiOperation({ summary: 'Delete up to 1,000 users in one request' })
  @ApiProblems(400, 404)
  @HttpCode(200)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({ type: BatchDeleteResultDto })
  @SkipAdminAudit()
  async batchDelete(
    @Param('tenant_id') tenantId: string,
    @Body() dto: BatchDeleteUsersDto,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const result = await this.users.batchDelete(tenantId, dto.users_ids);
    const missing = new Set(result.not_found_ids.map((id) => id.toLowerCase()));
    const deleted = [...new Set(dto.users_ids.map((id) => id.toLowerCase()))].filter(
      (id) => !missing.has(id),
    );
    this.recordEach(tenantId, 'admin.user.delete', deleted, req, principal);
    return result;
  }

  // The public contract's path (ARCHITECTURE.md). Redocly calls it ambiguous beside
  // `{user_id}/password` and its siblings; a user id is a UUID, so `by-username` never is one.
  @Get('by-username/:username')
  @ApiOperation({ summary: 'Find a user by username' })
  @ApiProblems(404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: UserDto })
  byUsername(@Param('tenant_id') tenantId: string, @Param('username') username: string) {
    return this.users.getByUsername(tenantId, username);
  }

  @Get(':user_id')
  @ApiOperation({ summary: 'Get a user' })
  @ApiProblems(404)
  @Authenticated({ scope: 'users:read' })
  @ApiOkResponse({ type: UserDto })
  get(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.users.get(tenantId, userId);
  }

  @Put(':user_id')
  @ApiOperation({ summary: 'Replace a user' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({
    type: UserDto,
    description: 'fields not given return to defaults; the password is kept',
  })
  replace(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: ReplaceUserDto,
  ) {
    return this.users.replace(tenantId, userId, dto);
  }

  @Patch(':user_id')
  @ApiOperation({ summary: 'Update some of a user’s fields' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({ type: UserDto, description: 'only the given fields change' })
  update(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: UpdateUserDto,
  ) {
    return this.users.update(tenantId, userId, dto);
  }

  @Delete(':user_id')
  @ApiOperation({ summary: 'Delete a user' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse()
  async remove(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    await this.users.remove(tenantId, userId);
  }

  @Put(':user_id/password')
  @ApiOperation({ summary: 'Set a user’s password' })
  @ApiProblems(400, 404)
  @HttpCode(204)
  @Authenticated({ scope: 'users:write' })
  @ApiNoContentResponse({
    description:
      'password set (tenant policy: minimum length, at most 72 bytes); where the tenant stipulates it, the user chooses a new one at the next sign-in',
  })
  async setPassword(
    @Param('tenant_id') tenantId: string,
    @Param('user_id') userId: string,
    @Body() dto: SetPasswordDto,
  ) {
    await this.users.setPassword(tenantId, userId, dto.password, true);
  }

  @Post(':user_id/disable')
  @ApiOperation({ summary: 'Disable a user' })
  @ApiProblems(404)
  @HttpCode(200)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({
    type: UserDto,
    description: 'the user can no longer sign in; sessions and tokens end',
  })
  disable(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.users.setDisabled(tenantId, userId, true);
  }

  @Post(':user_id/enable')
  @ApiOperation({ summary: 'Enable a user' })
  @ApiProblems(404)
  @HttpCode(200)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({ type: UserDto })
  enable(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.users.setDisabled(tenantId, userId, false);
  }

  @Post(':user_id/verify-email')
  @ApiOperation({ summary: 'Mark a user’s email address verified' })
  @ApiProblems(404)
  @HttpCode(200)
  @Authenticated({ scope: 'users:write' })
  @ApiOkResponse({ type: UserDto, description: 'marks the email address verified' })
  verifyEmail(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.users.markVerified(tenantId, userId);
  }
}
