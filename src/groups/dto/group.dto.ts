import { IgnoredReadOnly } from '../../common/api-docs.js';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { ListQuery } from '../../common/pagination.js';

export const GROUP_NAME_PATTERN = /^[A-Za-z0-9_.@ -]+$/;

export class ReplaceGroupDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 128,
    pattern: GROUP_NAME_PATTERN.source,
    description: 'unique per tenant, case-insensitively',
  })
  @IsString()
  @Length(1, 128)
  @Matches(GROUP_NAME_PATTERN, { message: 'name may contain letters, digits, spaces and _ . @ -' })
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 256 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(256)
  display_name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 256 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 256)
  external_id?: string | null;

  @IgnoredReadOnly(String, 'uuid')
  group_id?: unknown;
  @IgnoredReadOnly()
  tenant_id?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  created_at?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  updated_at?: unknown;
  @IgnoredReadOnly(Number)
  member_count?: unknown;
}

export class CreateGroupDto extends ReplaceGroupDto {}
export class UpdateGroupDto extends PartialType(ReplaceGroupDto) {}

export class GroupDto {
  @ApiProperty({ format: 'uuid' }) group_id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) display_name: string | null;
  @ApiProperty({ nullable: true, type: String }) external_id: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class GroupPageDto {
  @ApiProperty({ type: [GroupDto] }) data: GroupDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class GroupListQuery extends ListQuery {
  @ApiPropertyOptional({ description: 'name prefix, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  name?: string;

  @ApiPropertyOptional({ enum: ['created_at', 'name'], default: 'created_at' })
  @IsOptional()
  @IsIn(['created_at', 'name'])
  sort_by: 'created_at' | 'name' = 'created_at';
}

export class SetMembersDto {
  @ApiProperty({ type: [String], format: 'uuid', maxItems: 10000 })
  @IsArray()
  @ArrayMaxSize(10000)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  user_ids: string[];
}

export class SetAllowedClientsDto {
  @ApiProperty({ type: [String], maxItems: 1000 })
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  client_ids: string[];
}

export class AllowedClientsDto {
  @ApiProperty({ type: [String] }) client_ids: string[];
}
