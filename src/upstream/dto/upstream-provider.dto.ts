import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IgnoredReadOnly } from '../../common/api-docs.js';
import { PROVIDER_ID } from '../upstream-providers.service.js';

export const PRESETS = ['google', 'microsoft', 'github', 'apple'] as const;
export const KINDS = ['oidc', 'oauth2'] as const;
export const RESPONSE_MODES = ['query', 'form_post'] as const;
export const SECOND_FACTOR = ['local', 'skip'] as const;

const CLAIM_NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;
/** An OAuth scope token (RFC 6749 §3.3): printable ASCII without space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** A Microsoft Entra tenant: its GUID, a verified domain, or common / organizations / consumers. */
const MICROSOFT_TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/;

export class ClaimMappingDto {
  @ApiPropertyOptional({
    description: 'claim naming the upstream account; default `sub` (GitHub preset: `id`)',
  })
  @IsOptional()
  @Matches(CLAIM_NAME)
  subject?: string;

  @ApiPropertyOptional({ description: 'claim for the local username (default preferred_username)' })
  @IsOptional()
  @Matches(CLAIM_NAME)
  username?: string;

  @ApiPropertyOptional({ description: 'default email' })
  @IsOptional()
  @Matches(CLAIM_NAME)
  email?: string;

  @ApiPropertyOptional({ description: 'default email_verified' })
  @IsOptional()
  @Matches(CLAIM_NAME)
  email_verified?: string;

  @ApiPropertyOptional({ description: 'display name; default name' })
  @IsOptional()
  @Matches(CLAIM_NAME)
  name?: string;

  @ApiPropertyOptional({ description: 'group values, for group sync; default groups' })
  @IsOptional()
  @Matches(CLAIM_NAME)
  groups?: string;
}

const nullableUrl = (description: string) =>
  ApiPropertyOptional({ nullable: true, type: String, format: 'uri', description });

export class CreateUpstreamProviderDto {
  @ApiProperty({
    pattern: PROVIDER_ID.source,
    example: 'google',
    description: 'chosen by the admin; part of the sign-in URLs; unique in the tenant',
  })
  @IsString()
  @Matches(PROVIDER_ID, {
    message: 'provider_id must be 1-63 lower-case letters, digits or dashes, not starting with -',
  })
  provider_id: string;

  @ApiPropertyOptional({
    enum: PRESETS,
    description: 'fills the endpoints, scopes and claim mapping of a well-known provider',
  })
  @IsOptional()
  @IsIn(PRESETS)
  preset?: (typeof PRESETS)[number];

  @ApiPropertyOptional({
    enum: KINDS,
    description:
      'oidc (discovery from issuer) or oauth2 (fixed endpoints); default by preset, else oidc',
  })
  @IsOptional()
  @IsIn(KINDS)
  kind?: (typeof KINDS)[number];

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 64,
    description: 'the sign-in button says "Sign in with <label>"; required without preset',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  label?: string;

  @nullableUrl('image shown on the sign-in button (https)')
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 2048)
  icon_url?: string | null;

  @nullableUrl(
    'OIDC: the issuer; discovery at <issuer>/.well-known/openid-configuration (set by the google, microsoft and apple presets)',
  )
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 2048)
  issuer?: string | null;

  @ApiPropertyOptional({
    pattern: MICROSOFT_TENANT.source,
    writeOnly: true,
    description:
      'microsoft preset: the Entra tenant (GUID or domain; default common); sets issuer https://login.microsoftonline.com/<tenant>/v2.0',
  })
  @IsOptional()
  @Matches(MICROSOFT_TENANT, { message: 'microsoft_tenant must be a tenant id or domain' })
  microsoft_tenant?: string;

  @nullableUrl('oauth2: where the browser is sent to sign in (oidc: from discovery)')
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 2048)
  authorization_endpoint?: string | null;

  @nullableUrl('oauth2: the token endpoint (oidc: from discovery)')
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 2048)
  token_endpoint?: string | null;

  @nullableUrl('oauth2: the user API answering the account as JSON (oidc: from discovery)')
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 2048)
  userinfo_endpoint?: string | null;

  @ApiProperty({ minLength: 1, maxLength: 512 })
  @IsString()
  @Length(1, 512)
  client_id: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    writeOnly: true,
    maxLength: 4096,
    description: 'sealed at rest, never returned (see client_secret_set); null: none',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 4096)
  client_secret?: string | null;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    description: 'requested scopes; default by preset, else openid email profile',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  @Matches(SCOPE_TOKEN, { each: true, message: 'each scope must be an OAuth scope token' })
  scopes?: string[];

  @ApiPropertyOptional({ default: true, description: 'send a PKCE S256 challenge' })
  @IsOptional()
  @IsBoolean()
  pkce?: boolean;

  @ApiPropertyOptional({
    enum: RESPONSE_MODES,
    description: 'how the provider answers: query, or form_post (apple preset)',
  })
  @IsOptional()
  @IsIn(RESPONSE_MODES)
  response_mode?: (typeof RESPONSE_MODES)[number];

  @ApiPropertyOptional({ type: ClaimMappingDto, description: 'claim names, per local field' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ClaimMappingDto)
  claim_mapping?: ClaimMappingDto;

  @ApiPropertyOptional({ default: false, description: 'create a local user at first sign-in' })
  @IsOptional()
  @IsBoolean()
  jit_create?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      'link to an existing user by verified email; with jit_create false too, only users already linked sign in',
  })
  @IsOptional()
  @IsBoolean()
  link_by_email?: boolean;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    description: 'email domains sent straight to this provider; each in one provider only',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(DOMAIN, { each: true, message: 'each domain hint must be a lower-case domain' })
  domain_hints?: string[];

  @ApiPropertyOptional({ default: false, description: 'set group memberships at each sign-in' })
  @IsOptional()
  @IsBoolean()
  group_sync?: boolean;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', format: 'uuid' },
    description:
      'upstream group value → local group id; empty with group_sync: local groups matched by name',
  })
  @IsOptional()
  @IsObject()
  group_mapping?: Record<string, string>;

  @ApiPropertyOptional({
    enum: SECOND_FACTOR,
    default: 'local',
    description:
      "local: the tenant's second-factor rules still apply; skip: this sign-in is enough",
  })
  @IsOptional()
  @IsIn(SECOND_FACTOR)
  second_factor?: (typeof SECOND_FACTOR)[number];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 1000, description: 'buttons ascending' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  display_order?: number;

  @IgnoredReadOnly(Boolean)
  client_secret_set?: unknown;
  @IgnoredReadOnly()
  tenant_id?: unknown;
  @IgnoredReadOnly()
  created_at?: unknown;
  @IgnoredReadOnly()
  updated_at?: unknown;
}

/** Any field but the id, preset and kind; client_secret null clears it. */
export class UpdateUpstreamProviderDto extends PartialType(
  OmitType(CreateUpstreamProviderDto, ['provider_id', 'preset', 'kind'] as const),
) {
  @IgnoredReadOnly()
  provider_id?: unknown;
  @IgnoredReadOnly()
  preset?: unknown;
  @IgnoredReadOnly()
  kind?: unknown;
}

export class UpstreamProviderDto {
  @ApiProperty() provider_id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty({ enum: KINDS }) kind: string;
  @ApiProperty({ enum: PRESETS, nullable: true, type: String }) preset: string | null;
  @ApiProperty() label: string;
  @ApiProperty({ nullable: true, type: String }) icon_url: string | null;
  @ApiProperty({ nullable: true, type: String }) issuer: string | null;
  @ApiProperty({ nullable: true, type: String }) authorization_endpoint: string | null;
  @ApiProperty({ nullable: true, type: String }) token_endpoint: string | null;
  @ApiProperty({ nullable: true, type: String }) userinfo_endpoint: string | null;
  @ApiProperty() client_id: string;
  @ApiProperty({ description: 'whether a client secret is stored (it is never returned)' })
  client_secret_set: boolean;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty() pkce: boolean;
  @ApiProperty({ enum: RESPONSE_MODES }) response_mode: string;
  @ApiProperty({ type: ClaimMappingDto }) claim_mapping: ClaimMappingDto;
  @ApiProperty() jit_create: boolean;
  @ApiProperty() link_by_email: boolean;
  @ApiProperty({ type: [String] }) domain_hints: string[];
  @ApiProperty() group_sync: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', format: 'uuid' } })
  group_mapping: Record<string, string>;
  @ApiProperty({ enum: SECOND_FACTOR }) second_factor: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty() display_order: number;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
}

export class UpstreamProviderPageDto {
  @ApiProperty({ type: [UpstreamProviderDto] }) data: UpstreamProviderDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
