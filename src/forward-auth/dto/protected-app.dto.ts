import { IgnoredReadOnly } from '../../common/api-docs.js';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** A host name as the browser sends it in Host, lower case, with a port unless 80/443. */
export const HOST_PATTERN =
  /^(?=[^:]{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const DOMAIN_PATTERN =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** A week: a revocation is kept as long as a cookie can live. */
export const MAX_SESSION_LIFETIME = 7 * 24 * 3600;

export class HeaderMappingDto {
  @ApiPropertyOptional({ default: 'Remote-User', description: 'the username' })
  @IsOptional()
  @Matches(HEADER_NAME)
  user?: string;

  @ApiPropertyOptional({ default: 'Remote-Email' })
  @IsOptional()
  @Matches(HEADER_NAME)
  email?: string;

  @ApiPropertyOptional({ default: 'Remote-Name', description: 'the display name' })
  @IsOptional()
  @Matches(HEADER_NAME)
  name?: string;

  @ApiPropertyOptional({ default: 'Remote-Groups', description: 'group names, comma-separated' })
  @IsOptional()
  @Matches(HEADER_NAME)
  groups?: string;

  @ApiPropertyOptional({ default: 'Remote-Id', description: 'the user id' })
  @IsOptional()
  @Matches(HEADER_NAME)
  id?: string;
}

export class ReplaceProtectedAppDto {
  @ApiProperty({ minLength: 1, maxLength: 128 })
  @IsString()
  @Length(1, 128)
  name: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 50,
    pattern: HOST_PATTERN.source,
    description:
      'host names of the app (lower case, with the port unless 80/443); unique per tenant',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @Matches(HOST_PATTERN, { each: true, message: 'each host must be a lower-case host name' })
  hosts: string[];

  @ApiPropertyOptional({ default: '/', description: 'only URLs under this path are this app' })
  @IsOptional()
  @Matches(/^\/[A-Za-z0-9._~\-/]{0,255}$/, { message: 'path_prefix must start with /' })
  path_prefix?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    description: 'when not empty, only members of one of these groups get in (others: 403)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  allowed_group_ids?: string[];

  @ApiPropertyOptional({ type: HeaderMappingDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => HeaderMappingDto)
  headers?: HeaderMappingDto;

  @ApiPropertyOptional({
    default: false,
    description: 'also send Authorization: Bearer <JWT signed with the tenant key, 60 s>',
  })
  @IsOptional()
  @IsBoolean()
  jwt_header?: boolean;

  @ApiPropertyOptional({ default: 43200, minimum: 60, maximum: MAX_SESSION_LIFETIME })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(MAX_SESSION_LIFETIME)
  session_lifetime?: number;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    minimum: 60,
    description: 'seconds; null: none',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(60)
  @Max(MAX_SESSION_LIFETIME)
  idle_timeout?: number | null;

  @ApiPropertyOptional({ default: false, description: 'a sign-in without a second factor: 403' })
  @IsOptional()
  @IsBoolean()
  require_2fa?: boolean;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'parent domain of every host: one cookie for all its subdomains; null: per host',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @Matches(DOMAIN_PATTERN, { message: 'cookie_domain must be a lower-case domain' })
  cookie_domain?: string | null;

  @IgnoredReadOnly()
  app_id?: unknown;
  @IgnoredReadOnly()
  tenant_id?: unknown;
  @IgnoredReadOnly()
  created_at?: unknown;
  @IgnoredReadOnly()
  updated_at?: unknown;
}

export class CreateProtectedAppDto extends ReplaceProtectedAppDto {}
export class UpdateProtectedAppDto extends PartialType(ReplaceProtectedAppDto) {}

export class ProtectedAppDto {
  @ApiProperty({ format: 'uuid' }) app_id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) hosts: string[];
  @ApiProperty() path_prefix: string;
  @ApiProperty({ type: [String] }) allowed_group_ids: string[];
  @ApiProperty({ type: HeaderMappingDto }) headers: HeaderMappingDto;
  @ApiProperty() jwt_header: boolean;
  @ApiProperty() session_lifetime: number;
  @ApiProperty({ nullable: true, type: Number }) idle_timeout: number | null;
  @ApiProperty() require_2fa: boolean;
  @ApiProperty({ nullable: true, type: String }) cookie_domain: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class ProtectedAppPageDto {
  @ApiProperty({ type: [ProtectedAppDto] }) data: ProtectedAppDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
