import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { GroupDto } from './dto/group.dto.js';
import { GroupsService } from './groups.service.js';
import { ApiProblems } from '../common/api-docs.js';

/**
 * A user's groups, under the user's path. It lives with the groups (which know their members)
 * so that the users module does not depend on the groups module and back.
 */
@ApiTags('users')
@Controller('api/v1/tenants/:tenant_id/users/:user_id/groups')
export class UserGroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({ summary: 'List a user’s groups' })
  @ApiProblems(400, 404)
  @Authenticated({ scope: 'groups:read' })
  @ApiOkResponse({ type: [GroupDto] })
  userGroups(@Param('tenant_id') tenantId: string, @Param('user_id') userId: string) {
    return this.groups.groupDtosOfUser(tenantId, userId);
  }
}
