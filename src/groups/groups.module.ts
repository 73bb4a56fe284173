import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientEntity } from '../clients/client.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './group.entity.js';
import { GroupMembersService } from './group-members.service.js';
import { GroupsController } from './groups.controller.js';
import { GroupsService } from './groups.service.js';
import { UserGroupsController } from './user-groups.controller.js';

@Module({
  imports: [
    TenancyModule.forFeature([
      GroupEntity,
      GroupMemberEntity,
      GroupAllowedClientEntity,
      UserEntity,
      ClientEntity,
    ]),
  ],
  controllers: [GroupsController, UserGroupsController],
  providers: [GroupsService, GroupMembersService],
  exports: [GroupsService, GroupMembersService],
})
export class GroupsModule {}
