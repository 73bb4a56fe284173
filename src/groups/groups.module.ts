import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { ClientEntity } from '../clients/client.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './group.entity.js';
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
  providers: [GroupsService],
  exports: [GroupsService],
})
export class GroupsModule {}
