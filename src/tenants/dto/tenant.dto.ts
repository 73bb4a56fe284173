import { IgnoredReadOnly } from '../../common/api-docs.js';
import { ApiProperty, ApiPropertyOptional, PartialType, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsHexColor,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
  registerDecorator,
} from 'class-validator';
import { DynamicRegistrationDto } from './dynamic-registration.dto.js';
import { EntraEamDto } from './entra-eam.dto.js';
import { StipulationsDto } from './stipulations.dto.js';
import { TENANT_ID_PATTERN, tenantIdProblem } from '../../../libs/tenancy/index.js';
import { LOGIN_FACTORS, type LoginFactor } from '../tenant-settings.js';
import { ListQuery } from '../../common/pagination.js';

function IsTenantId() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTenantId',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => tenantIdProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${tenantIdProblem(args?.value)}`,
      },
    });
}

function MaxJsonSize(bytes: number) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'maxJsonSize',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => JSON.stringify(value ?? null).length <= bytes,
        defaultMessage: (args) =>
          `${args?.property} must serialize to at most ${bytes} bytes of JSON`,
      },
    });
}

export class BlockLimitsDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 10000,
    description: 'failed attempts allowed within the window',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  max_attempts?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 86400, description: 'sliding window, seconds' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86400)
  window_seconds?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 2592000,
    description: 'how long a block lasts, seconds',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2592000)
  block_seconds?: number;
}

export class BlockConfigDto {
  @ApiPropertyOptional({
    type: BlockLimitsDto,
    description: 'limits per client IP address; omitted fields keep their value',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BlockLimitsDto)
  ip?: BlockLimitsDto;

  @ApiPropertyOptional({
    type: BlockLimitsDto,
    description: 'limits per username; omitted fields keep their value',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BlockLimitsDto)
  user?: BlockLimitsDto;
}

/** Every tenant setting, all optional: omitted ones keep their default (create, PUT) or value (PATCH). */
export class TenantSettingsDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() register_enable?: boolean;
  @ApiPropertyOptional({ description: 'require a second factor' })
  @IsOptional()
  @IsBoolean()
  is_2fa?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() use_pin?: boolean;

  @ApiPropertyOptional({ minimum: 4, maximum: 12 })
  @IsOptional()
  @IsInt()
  @Min(4)
  @Max(12)
  pin_size?: number;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() use_pattern?: boolean;

  @ApiPropertyOptional({
    minimum: 3,
    maximum: 5,
    description: 'points per side of the pattern grid',
  })
  @IsOptional()
  @IsInt()
  @Min(3)
  @Max(5)
  pattern_size?: number;

  @ApiPropertyOptional({
    minimum: 3,
    maximum: 5,
    description: "the seed's spelling of pattern_size (input only)",
  })
  @IsOptional()
  @IsInt()
  @Min(3)
  @Max(5)
  patter_size?: number;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() use_face_recognition?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() use_liveness?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() show_pin_when_typing?: boolean;

  @ApiPropertyOptional({ type: BlockConfigDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BlockConfigDto)
  block_config?: BlockConfigDto;

  @ApiPropertyOptional({ isArray: true, enum: LOGIN_FACTORS })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(LOGIN_FACTORS, { each: true })
  login_order?: LoginFactor[];

  @ApiPropertyOptional() @IsOptional() @IsBoolean() passkey_enabled?: boolean;
  @ApiPropertyOptional({
    description:
      'False: one identifier, the email address is the username; sign-up and sign-in ask for it alone. New tenants: true.',
  })
  @IsOptional()
  @IsBoolean()
  has_username_and_email?: boolean;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'liveness provider settings, up to 4 KB of JSON',
  })
  @IsOptional()
  @IsObject()
  @MaxJsonSize(4096)
  liveness_config?: Record<string, unknown>;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() password_enabled?: boolean;

  @ApiPropertyOptional({
    description: 'hosted login offers one-time sign-in links by mail (needs SMTP); default false',
  })
  @IsOptional()
  @IsBoolean()
  magic_link_enabled?: boolean;

  @ApiPropertyOptional({
    minimum: 8,
    maximum: 72,
    description: 'password policy: minimum length (bcrypt reads at most 72 bytes)',
  })
  @IsOptional()
  @IsInt()
  @Min(8)
  @Max(72)
  password_min_length?: number;

  @ApiPropertyOptional({ minimum: 60, maximum: 86400, description: 'seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(86400)
  access_token_ttl?: number;

  @ApiPropertyOptional({ minimum: 60, maximum: 86400, description: 'seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(86400)
  id_token_ttl?: number;

  @ApiPropertyOptional({ minimum: 300, maximum: 31536000, description: 'seconds' })
  @IsOptional()
  @IsInt()
  @Min(300)
  @Max(31536000)
  refresh_token_ttl?: number;

  @ApiPropertyOptional({ minimum: 300, maximum: 31536000, description: 'seconds' })
  @IsOptional()
  @IsInt()
  @Min(300)
  @Max(31536000)
  session_ttl?: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'https URL of the logo on hosted pages',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsUrl({ protocols: ['https'], require_protocol: true, require_tld: false })
  @Length(1, 2048)
  logo_url?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '#3355ff' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @IsHexColor()
  @Matches(/^#[0-9a-fA-F]{6}$/, { message: 'primary_color must be #RRGGBB' })
  primary_color?: string | null;

  @ApiPropertyOptional({ type: DynamicRegistrationDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DynamicRegistrationDto)
  dynamic_registration?: DynamicRegistrationDto;

  @ApiPropertyOptional({ type: EntraEamDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => EntraEamDto)
  entra_eam?: EntraEamDto;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'auth.example.com',
    description:
      'Dedicated auth host (host[:port], lower case): the sign-in UI (hosted pages, forward-auth start) is served there only; on other hosts UI paths answer 307 to it, passkey ceremonies 404, APIs work everywhere. Null: every host alike.',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 260)
  @Matches(/^(?=[a-z0-9])[a-z0-9.-]*[a-z0-9](?::[1-9][0-9]{0,4})?$/, {
    message: 'auth_host must be a lower-case host name, optionally with :port',
  })
  auth_host?: string | null;

  @ApiPropertyOptional({ type: StipulationsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StipulationsDto)
  stipulations?: StipulationsDto;

  @ApiPropertyOptional({
    example: '2026-12',
    description:
      'The current terms version: users who accepted another one accept again (stipulation accepted_terms).',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  terms_version?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'The terms page shown for acceptance when the client has no op_user_agreement_url of its own.',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsUrl({ require_tld: false, protocols: ['https', 'http'], require_protocol: true })
  @Length(1, 2000)
  terms_url?: string | null;
}

/** PUT body: the whole tenant; every setting not given returns to its default. */
export class ReplaceTenantDto extends TenantSettingsDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  display_name: string;

  @ApiPropertyOptional({
    description: 'ignored when equal to the path id; a different value is refused',
  })
  @IsOptional()
  @IsString()
  tenant_id?: string;

  @IgnoredReadOnly(String, 'date-time')
  created_at?: unknown;
  @IgnoredReadOnly(String, 'date-time')
  updated_at?: unknown;
}

export class CreateTenantDto extends OmitType(ReplaceTenantDto, [
  'tenant_id',
  'created_at',
  'updated_at',
] as const) {
  @ApiProperty({ pattern: TENANT_ID_PATTERN.source, example: 'acme' })
  @IsTenantId()
  tenant_id: string;
}

export class UpdateTenantDto extends PartialType(ReplaceTenantDto) {}

export class TenantDto extends TenantSettingsDto {
  @ApiProperty() tenant_id: string;
  @ApiProperty() display_name: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class TenantPageDto {
  @ApiProperty({ type: [TenantDto] }) data: TenantDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class TenantListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: ['created_at', 'tenant_id', 'display_name'], default: 'created_at' })
  @IsOptional()
  @IsIn(['created_at', 'tenant_id', 'display_name'])
  sort_by: 'created_at' | 'tenant_id' | 'display_name' = 'created_at';
}
