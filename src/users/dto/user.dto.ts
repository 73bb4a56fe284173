import { IgnoredReadOnly } from '../../common/api-docs.js';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ArrayMinSize,
  IsUrl,
} from 'class-validator';
import { ListQuery } from '../../common/pagination.js';

export const USERNAME_PATTERN = /^[a-zA-Z0-9_.@-]+$/;
const LOCALE_PATTERN = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;

/** Fields a client may set on a user; all optional here, PUT/POST make some required. */
export class UserFieldsDto {
  @ApiPropertyOptional({ type: String, nullable: true, format: 'email', maxLength: 254 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ description: 'email verified' })
  @IsOptional()
  @IsBoolean()
  is_verified?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() is_disabled?: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'en-US' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @Matches(LOCALE_PATTERN, { message: 'locale must be a language tag such as en or pt-BR' })
  @MaxLength(35)
  locale?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 256 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 256)
  external_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 256 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(256)
  display_name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 128 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(128)
  given_name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 128 })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(128)
  family_name?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 2000,
    example: 'https://example.com/me.png',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsUrl(
    { protocols: ['https'], require_protocol: true },
    { message: 'picture must be an https URL' },
  )
  @MaxLength(2000)
  picture?: string | null;
}

export class CreateUserDto extends UserFieldsDto {
  @ApiProperty({ minLength: 1, maxLength: 128, pattern: USERNAME_PATTERN.source })
  @IsString()
  @Length(1, 128)
  @Matches(USERNAME_PATTERN, { message: 'username may contain only letters, digits and _ . @ -' })
  username: string;

  @ApiPropertyOptional({
    writeOnly: true,
    description: 'checked against the tenant password policy; never returned',
  })
  @IsOptional()
  @IsString()
  password?: string;

  // The main seed's Create User names these too: its clients choose the id and send the rest.
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'chosen by the caller (seed); generated when absent',
  })
  @IsOptional()
  @IsUUID('all', { message: 'user_id must be a UUID' })
  user_id?: string;

  @ApiPropertyOptional({ description: 'must equal the tenant in the path (seed field)' })
  @IsOptional()
  @IsString()
  tenant_id?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'creation time to keep (moving users from another system); now when absent',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_at?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    readOnly: true,
    description: 'read-only (seed field), ignored',
  })
  @IsOptional()
  updated_at?: unknown;
}

/** PUT: the whole user; fields not given return to their defaults (the password is kept). */
export class ReplaceUserDto extends UserFieldsDto {
  @ApiProperty({ minLength: 1, maxLength: 128, pattern: USERNAME_PATTERN.source })
  @IsString()
  @Length(1, 128)
  @Matches(USERNAME_PATTERN, { message: 'username may contain only letters, digits and _ . @ -' })
  username: string;

  @IgnoredReadOnly(String, 'uuid')
  user_id?: unknown;
  @IgnoredReadOnly()
  tenant_id?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  created_at?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  updated_at?: unknown;
  @IgnoredReadOnly(Boolean)
  has_password?: unknown;
  @IgnoredReadOnly(Boolean)
  password_change_required?: unknown;
  @IgnoredReadOnly()
  terms_accepted_version?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  terms_accepted_at?: unknown;
}

export class UpdateUserDto extends PartialType(ReplaceUserDto) {}

export class SetPasswordDto {
  @ApiProperty({ writeOnly: true })
  @IsString()
  password: string;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() username: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() is_disabled: boolean;
  @ApiProperty() is_verified: boolean;
  @ApiProperty({ nullable: true, type: String }) locale: string | null;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ nullable: true, type: String }) external_id: string | null;
  @ApiProperty({ nullable: true, type: String }) display_name: string | null;
  @ApiProperty({ nullable: true, type: String }) given_name: string | null;
  @ApiProperty({ nullable: true, type: String }) family_name: string | null;
  @ApiProperty({ nullable: true, type: String }) picture: string | null;
  @ApiProperty() has_password: boolean;
  @ApiProperty({ description: 'An admin set the password; the user must choose a new one.' })
  password_change_required: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'The terms version last accepted.' })
  terms_accepted_version: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  terms_accepted_at: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) data: UserDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class UserListQuery extends ListQuery {
  @ApiPropertyOptional({ description: 'prefix, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  username?: string;

  @ApiPropertyOptional({ description: 'prefix, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ enum: ['created_at', 'username', 'email'], default: 'created_at' })
  @IsOptional()
  @IsIn(['created_at', 'username', 'email'])
  sort_by: 'created_at' | 'username' | 'email' = 'created_at';
}

export class BatchCreateUsersDto {
  @ApiProperty({
    type: [Object],
    description:
      'up to 1,000 users (CreateUser shape); each is validated on its own. At most ' +
      'PASSWORD_MAX_PER_REQUEST (default 100) may carry a password: more is refused whole (413)',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  users: unknown[];
}

export class BatchFailureDto {
  @ApiProperty() index: number;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
  @ApiProperty({ nullable: true, type: String }) field: string | null;
  @ApiProperty() reason: string;
}

export class BatchCreateResultDto {
  @ApiProperty() success_created_count: number;
  @ApiProperty({ type: [String], description: 'usernames that failed validation' })
  fail_create_usernames: string[];
  @ApiProperty({ type: [String], description: 'usernames (or emails/external ids) already taken' })
  duplicate_usernames: string[];
  @ApiProperty({
    type: [BatchFailureDto],
    description: 'a reason per failure, failed and duplicate alike',
  })
  failures: BatchFailureDto[];
  @ApiProperty({ type: [String] }) created_user_ids: string[];
}

export class BatchDeleteUsersDto {
  @ApiProperty({ type: [String], format: 'uuid', maxItems: 1000 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  users_ids: string[];
}

export class BatchDeleteResultDto {
  @ApiProperty() deleted_count: number;
  @ApiProperty({ type: [String] }) not_found_ids: string[];
}
