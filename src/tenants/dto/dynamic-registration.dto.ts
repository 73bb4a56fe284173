import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

export const REGISTRABLE_GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;

/**
 * Dynamic client registration (RFC 7591/7592) of a tenant: off unless enabled, and then only
 * for clients inside these bounds. Omitted fields keep their value.
 */
export class DynamicRegistrationDto {
  @ApiPropertyOptional({
    default: false,
    description: 'POST /{tenant_id}/register accepts clients',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    default: true,
    description:
      'registration needs an initial access token (issued at /initial-access-tokens); false opens it to anyone (MCP-style), still within these bounds',
  })
  @IsOptional()
  @IsBoolean()
  require_initial_access_token?: boolean;

  @ApiPropertyOptional({
    type: [String],
    default: ['https', 'http'],
    description:
      'schemes redirect URIs may use (http is only ever accepted on loopback hosts); add a reverse-domain scheme for native apps',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  @Matches(/^[a-z][a-z0-9+.-]*$/, { each: true, message: 'each scheme must be a URI scheme' })
  redirect_uri_schemes?: string[];

  @ApiPropertyOptional({
    isArray: true,
    enum: REGISTRABLE_GRANT_TYPES,
    default: ['authorization_code', 'refresh_token'],
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(REGISTRABLE_GRANT_TYPES, { each: true })
  grant_types?: string[];

  @ApiPropertyOptional({
    type: [String],
    default: ['openid', 'profile', 'email', 'offline_access'],
    description: 'scopes a registered client may hold',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  scopes?: string[];

  @ApiPropertyOptional({
    isArray: true,
    enum: ['public', 'confidential'],
    default: ['public', 'confidential'],
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(['public', 'confidential'], { each: true })
  client_types?: Array<'public' | 'confidential'>;
}
