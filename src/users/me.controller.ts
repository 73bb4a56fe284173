import { Body, Controller, Get, HttpCode, Param, Patch, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Self, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { notFound } from '../common/problem.js';
import { ChangeOwnPasswordDto, MeDto, UpdateMeDto } from './dto/me.dto.js';
import { MeSections } from './me-sections.js';
import { UserDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

function selfId(principal: Principal): string {
  if (!principal.userId) throw notFound('User');
  return principal.userId;
}

/** The caller's own account: read it, change its profile, change its password. */
@ApiTags('self-service')
@Controller('api/v1/tenants/:tenant_id/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly sections: MeSections,
  ) {}

  @Get()
  @Self('me:read')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: MeDto, description: 'the user a user key (or user token) acts as' })
  async me(@Param('tenant_id') tenantId: string, @CurrentPrincipal() principal: Principal) {
    const userId = selfId(principal);
    const user = await this.users.get(tenantId, userId);
    return { identities: [], ...user, ...(await this.sections.collect(tenantId, userId)) };
  }

  @Patch()
  @Self('me:write')
  @ApiOperation({ summary: 'Change the own display name, locale or picture' })
  @ApiOkResponse({ type: UserDto })
  update(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() principal: Principal,
    @Body() dto: UpdateMeDto,
  ) {
    return this.users.update(tenantId, selfId(principal), { ...dto });
  }

  @Put('password')
  @HttpCode(204)
  @Self('me:credentials')
  @ApiOperation({ summary: 'Change the own password (the current one is required)' })
  @ApiNoContentResponse({ description: 'changed; other sessions and tokens end' })
  async password(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangeOwnPasswordDto,
  ) {
    await this.users.changeOwnPassword(
      tenantId,
      selfId(principal),
      dto.current_password,
      dto.new_password,
    );
  }
}
