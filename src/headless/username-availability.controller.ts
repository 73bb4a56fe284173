import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { auditContextOf } from '../audit/audit.service.js';
import { Public } from '../auth/auth.decorators.js';
import { BlockerService, tooManyAttempts } from '../blocker/blocker.service.js';
import { ApiProblems } from '../common/api-docs.js';
import { notFound } from '../common/problem.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UsersService } from '../users/users.service.js';

export class UsernameAvailabilityQuery {
  @ApiProperty({
    description:
      'The username a sign-up form is about to use (the email address where the tenant has one identifier)',
    example: 'alice',
  })
  @IsString()
  @Length(1, 254)
  username: string;
}

export class UsernameAvailabilityDto {
  @ApiProperty() username: string;
  @ApiProperty({ description: 'false: sign-up with this name would be refused as taken' })
  available: boolean;
}

/**
 * Whether a sign-up form's username is free, for tenants open to sign-up. It says what a sign-up
 * attempt would say anyway ("already registered"), no more; each question counts against the
 * caller's IP in the brute-force blocker like a failed sign-in, so sweeping a list of names is
 * as slow as guessing passwords (decision 0033).
 */
@ApiTags('headless sign-in')
@Public()
@Controller('api/v1/tenants/:tenant_id/signup')
export class UsernameAvailabilityController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
    private readonly blocker: BlockerService,
  ) {}

  @Get('username-availability')
  @ApiOperation({
    summary: 'Check whether a username is free for sign-up',
    description:
      'Public, for tenants with sign-up open (`register_enable`); counted per IP by the brute-force blocker (429 with Retry-After past its limit).',
  })
  @ApiProblems(400, 404, 429)
  @ApiOkResponse({ type: UsernameAvailabilityDto })
  async check(
    @Param('tenant_id') tenantId: string,
    @Query() q: UsernameAvailabilityQuery,
    @Req() req: FastifyRequest,
  ): Promise<UsernameAvailabilityDto> {
    if (tenantId.length > 63 || !(await this.tenants.exists(tenantId))) throw notFound('Tenant');
    // Closed to sign-up: nothing a sign-up could reveal, so nothing to answer.
    if (!(await this.tenants.settings(tenantId)).register_enable) throw notFound('Sign-up');
    const { ip } = auditContextOf(req);
    const who = { ip: ip ?? null };
    const check = await this.blocker.check(tenantId, who);
    if (check.blocked) throw tooManyAttempts(check);
    const counted = await this.blocker.recordFailure(tenantId, {
      ...who,
      method: 'username_availability',
    });
    if (counted.blocked) throw tooManyAttempts(counted);
    const username = q.username.trim();
    const taken = await this.users.findForLogin(tenantId, username);
    return { username, available: !taken };
  }
}
