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
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { ListQuery } from '../common/pagination.js';
import { UserPageDto } from '../users/dto/user.dto.js';
import { toUserDto } from '../users/user-values.js';
import {
  AllowedClientsDto,
  CreateGroupDto,
  GroupDto,
  GroupListQuery,
  GroupPageDto,
  ReplaceGroupDto,
  SetAllowedClientsDto,
  SetMembersDto,
  UpdateGroupDto,
} from './dto/group.dto.js';
import { GroupsService } from './groups.service.js';
import { ApiProblems } from '../common/api-docs.js';

@ApiTags('groups')
@Controller('api/v1/tenants/:tenant_id/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a group' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'groups:write' })
  @ApiCreatedResponse({ type: GroupDto })
  create(@Param('tenant_id') tenantId: string, @Body() dto: CreateGroupDto) {
    return this.groups.create(tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List groups' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'groups:read' })
  @ApiOkResponse({ type: GroupPageDto })
  list(@Param('tenant_id') tenantId: string, @Query() q: GroupListQuery) {
    return this.groups.list(tenantId, q);
  }

  @Get(':group_id')
  @ApiOperation({ summary: 'Get a group' })
  @ApiProblems(404)
  @Authenticated({ scope: 'groups:read' })
  @ApiOkResponse({ type: GroupDto })
  get(@Param('tenant_id') tenantId: string, @Param('group_id') groupId: string) {
    return this.groups.get(tenantId, groupId);
  }

  @Put(':group_id')
  @ApiOperation({ summary: 'Replace a group' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'groups:write' })
  @ApiOkResponse({ type: GroupDto })
  replace(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Body() dto: ReplaceGroupDto,
  ) {
    return this.groups.replace(tenantId, groupId, dto);
  }

  @Patch(':group_id')
  @ApiOperation({ summary: 'Update some of a group’s fields' })
  @ApiProblems(400, 404, 409)
  @Authenticated({ scope: 'groups:write' })
  @ApiOkResponse({ type: GroupDto })
  update(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Body() dto: UpdateGroupDto,
  ) {
    return this.groups.update(tenantId, groupId, dto);
  }

  @Delete(':group_id')
  @ApiOperation({ summary: 'Delete a group' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'groups:write' })
  @ApiNoContentResponse()
  async remove(@Param('tenant_id') tenantId: string, @Param('group_id') groupId: string) {
    await this.groups.remove(tenantId, groupId);
  }

  @Get(':group_id/members')
  @ApiOperation({ summary: 'List a group’s members' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'groups:read' })
  @ApiOkResponse({ type: UserPageDto })
  async members(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Query() q: ListQuery,
  ) {
    const { rows, page } = await this.groups.listMembers(tenantId, groupId, q);
    return page(rows.map(toUserDto));
  }

  @Put(':group_id/members')
  @ApiOperation({ summary: 'Set a group’s members' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'groups:write' })
  @ApiOkResponse({ type: SetMembersDto, description: 'the member list becomes exactly user_ids' })
  setMembers(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Body() dto: SetMembersDto,
  ) {
    return this.groups.setMembers(tenantId, groupId, dto.user_ids);
  }

  @Put(':group_id/members/:user_id')
  @ApiOperation({ summary: 'Add a user to a group' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'groups:write' })
  @ApiNoContentResponse({ description: 'adds one member (idempotent)' })
  async addMember(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Param('user_id') userId: string,
  ) {
    await this.groups.addMember(tenantId, groupId, userId);
  }

  @Delete(':group_id/members/:user_id')
  @ApiOperation({ summary: 'Remove a user from a group' })
  @ApiProblems(404)
  @HttpCode(204)
  @Authenticated({ scope: 'groups:write' })
  @ApiNoContentResponse({ description: 'removes one member' })
  async removeMember(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Param('user_id') userId: string,
  ) {
    await this.groups.removeMember(tenantId, groupId, userId);
  }

  @Get(':group_id/allowed-clients')
  @ApiOperation({ summary: 'List the clients a group’s members may use' })
  @ApiProblems(404)
  @Authenticated({ scope: 'groups:read' })
  @ApiOkResponse({ type: AllowedClientsDto })
  allowedClients(@Param('tenant_id') tenantId: string, @Param('group_id') groupId: string) {
    return this.groups.getAllowedClients(tenantId, groupId);
  }

  @Put(':group_id/allowed-clients')
  @ApiOperation({ summary: 'Set the clients a group’s members may use' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'groups:write' })
  @ApiOkResponse({
    type: AllowedClientsDto,
    description: 'members of this group may use these group-restricted clients',
  })
  setAllowedClients(
    @Param('tenant_id') tenantId: string,
    @Param('group_id') groupId: string,
    @Body() dto: SetAllowedClientsDto,
  ) {
    return this.groups.setAllowedClients(tenantId, groupId, dto.client_ids);
  }
}
