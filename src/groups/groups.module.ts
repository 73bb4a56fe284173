import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientsModule } from '../clients/clients.module.js';
import { UsersModule } from '../users/users.module.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './group.entity.js';
import { GroupRows } from './group-rows.js';
import { GroupMembersService } from './group-members.service.js';
import { GroupsController } from './groups.controller.js';
import { GroupsService } from './groups.service.js';
import { UserGroupsController } from './user-groups.controller.js';
import { GroupTransfer } from './group-transfer.js';

@Module({
  imports: [
    TenancyModule.forFeature([GroupEntity, GroupMemberEntity, GroupAllowedClientEntity]),
    UsersModule,
    ClientsModule,
  ],
  controllers: [GroupsController, UserGroupsController],
  providers: [GroupsService, GroupMembersService, GroupRows, GroupTransfer],
  exports: [GroupsService, GroupMembersService, GroupRows, GroupTransfer],
})
export class GroupsModule {}
