import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { ListQuery } from '../../common/pagination.js';
import {
  CLIENT_ID_PATTERN,
  CLIENT_TYPES,
  GRANT_TYPES,
  ID_TOKEN_SIGNING_ALGS,
  MAX_SCOPE_LENGTH,
  MAX_URI_LENGTH,
  MAX_URIS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../client-rules.js';
import type { ClientType } from '../client.entity.js';
import { SEED_SIGNING_ALGS } from '../seed-fields.js';

/** Optional, but when present not null: for fields that always have a value. */
const Present = () => ValidateIf((_o, v) => v !== undefined);
/** Optional and nullable (null clears the value). */
const Nullable = () => ValidateIf((_o, v) => v !== undefined && v !== null);

function UriList() {
  return (target: object, key: string) => {
    Present()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(MAX_URIS)(target, key);
    IsString({ each: true })(target, key);
    MaxLength(MAX_URI_LENGTH, { each: true })(target, key);
  };
}

function OptionalUri() {
  return (target: object, key: string) => {
    Nullable()(target, key);
    IsString()(target, key);
    MaxLength(MAX_URI_LENGTH)(target, key);
  };
}

/**
 * The client fields an admin sets, all optional; `name` is declared by each body (required for
 * create and PUT), since class-validator would carry an optional marker into subclasses.
 * Shapes are checked here; the rules between fields (redirect URIs by client type, auth method
 * against client type, ...) live in client-rules.ts and run on the merged result.
 */
export class ClientFieldsDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_URIS,
    description:
      'matched exactly; https, or http on localhost/127.0.0.1/[::1]; public clients may use a reverse-domain scheme (com.example.app:/cb)',
  })
  @UriList()
  redirect_uris?: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_URIS,
    description: 'same rules as redirect_uris',
  })
  @UriList()
  post_logout_redirect_uris?: string[];

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    default: ['openid', 'profile', 'email'],
    description:
      'openid, profile, email, offline_access, roles, groups, tenant, or custom scopes matching ^[a-z][a-z0-9:._-]*$',
  })
  @Present()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(MAX_SCOPE_LENGTH, { each: true })
  allowed_scopes?: string[];

  @ApiPropertyOptional({ isArray: true, enum: GRANT_TYPES, default: ['authorization_code'] })
  @Present()
  @IsArray()
  @ArrayMaxSize(GRANT_TYPES.length)
  @IsIn(GRANT_TYPES, { each: true })
  grant_types?: string[];

  @ApiPropertyOptional({
    enum: TOKEN_ENDPOINT_AUTH_METHODS,
    description: 'default: none for public clients, client_secret_basic for confidential ones',
  })
  @Present()
  @IsIn(TOKEN_ENDPOINT_AUTH_METHODS)
  token_endpoint_auth_method?: string;

  @ApiPropertyOptional({ enum: ID_TOKEN_SIGNING_ALGS, default: 'RS256' })
  @Present()
  @IsIn(ID_TOKEN_SIGNING_ALGS)
  id_token_signed_response_alg?: string;

  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'the client public keys ({"keys": [...]}) for private_key_jwt',
  })
  @Nullable()
  @IsObject()
  jwks?: { keys: Array<Record<string, unknown>> } | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'instead of jwks' })
  @OptionalUri()
  jwks_uri?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String }) @OptionalUri() logo_uri?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) @OptionalUri() client_uri?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) @OptionalUri() policy_uri?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) @OptionalUri() tos_uri?: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      "Front-Channel Logout: loaded in a hidden iframe by the logout page (the seed's name for frontchannel_logout_uri)",
  })
  @OptionalUri()
  client_logout_uri?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'the standard name for client_logout_uri (Front-Channel Logout 1.0)',
  })
  @OptionalUri()
  frontchannel_logout_uri?: string | null;

  @ApiPropertyOptional({
    default: false,
    description: 'the front-channel iframe URL carries iss and sid',
  })
  @Present()
  @IsBoolean()
  frontchannel_logout_session_required?: boolean;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      'Back-Channel Logout 1.0: receives a logout token (POST, logout_token=...) when a session with this client ends; https and public addresses only',
  })
  @OptionalUri()
  backchannel_logout_uri?: string | null;

  @ApiPropertyOptional({
    default: false,
    description: 'ID tokens and logout tokens carry the session id (sid)',
  })
  @Present()
  @IsBoolean()
  backchannel_logout_session_required?: boolean;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'terms the user accepts when signing in to this client (seed field)',
  })
  @OptionalUri()
  op_user_agreement_url?: string | null;

  @ApiPropertyOptional({ default: false, description: 'the login page offers sign-up' })
  @Present()
  @IsBoolean()
  register_enable?: boolean;

  @ApiPropertyOptional({ default: false, description: 'locked: no new logins' })
  @Present()
  @IsBoolean()
  is_lock?: boolean;

  @ApiPropertyOptional({ default: false, description: 'only members of allowed groups sign in' })
  @Present()
  @IsBoolean()
  is_group_restricted?: boolean;

  @ApiPropertyOptional({ default: false, description: 'skips the consent page' })
  @Present()
  @IsBoolean()
  first_party?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      'tokens only with a DPoP proof (RFC 9449); public clients using DPoP get sender-constrained refresh tokens either way',
  })
  @Present()
  @IsBoolean()
  dpop_bound_access_tokens?: boolean;

  // The main seed's names (seed-fields.ts): accepted beside ours, refused when they disagree.
  @ApiPropertyOptional({
    enum: SEED_SIGNING_ALGS,
    description: "the seed's name for id_token_signed_response_alg",
  })
  @Present()
  @IsIn(SEED_SIGNING_ALGS)
  sing_alg?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_URIS,
    description: "the seed's name for post_logout_redirect_uris",
  })
  @UriList()
  post_logout_redirect_uri?: string[];

  @ApiPropertyOptional({ nullable: true, type: String, description: "the seed's policy_uri" })
  @OptionalUri()
  op_policy_url?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: "the seed's tos_uri" })
  @OptionalUri()
  op_tos_url?: string | null;

  @ApiPropertyOptional({ description: 'must equal the tenant in the path (seed field)' })
  @Present()
  @IsString()
  tenant_id?: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "read-only (the tenant's display name); ignored on input",
  })
  @Nullable()
  @IsString()
  @MaxLength(200)
  tenant_name?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    minLength: 32,
    maxLength: 256,
    description:
      'confidential clients: a secret of your choosing (at least 32 random printable characters) instead of a generated one; on update it replaces the current one',
  })
  @Nullable()
  @IsString()
  client_secret?: string | null;
}

export class CreateClientDto extends ClientFieldsDto {
  @ApiPropertyOptional({
    pattern: CLIENT_ID_PATTERN.source,
    description: 'generated when not given',
  })
  @Present()
  @IsString()
  @Matches(CLIENT_ID_PATTERN, {
    message:
      'client_id must be 1-128 letters, digits, ".", "_", "~" or "-", starting with a letter or digit',
  })
  client_id?: string;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ enum: CLIENT_TYPES })
  @IsIn(CLIENT_TYPES)
  client_type: ClientType;
}

/** PUT: fields not given return to their defaults; client_id and client_type cannot change. */
export class ReplaceClientDto extends ClientFieldsDto {
  @ApiPropertyOptional({ description: 'must equal the client id in the path' })
  @Present()
  @IsString()
  client_id?: string;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({
    enum: CLIENT_TYPES,
    description: 'cannot change: must equal the current type',
  })
  @Present()
  @IsIn(CLIENT_TYPES)
  client_type?: ClientType;
}

/** PATCH: only the fields given change; null clears a nullable one. */
export class UpdateClientDto extends ClientFieldsDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Present()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ description: 'must equal the client id in the path' })
  @Present()
  @IsString()
  client_id?: string;

  @ApiPropertyOptional({
    enum: CLIENT_TYPES,
    description: 'cannot change: must equal the current type',
  })
  @Present()
  @IsIn(CLIENT_TYPES)
  client_type?: ClientType;
}

export class ClientListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: ['created_at', 'client_id', 'name'], default: 'created_at' })
  @IsOptional()
  @IsIn(['created_at', 'client_id', 'name'])
  sort_by: 'created_at' | 'client_id' | 'name' = 'created_at';
}

export class ClientDto {
  @ApiProperty() client_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: CLIENT_TYPES }) client_type: ClientType;
  @ApiProperty({ type: [String] }) redirect_uris: string[];
  @ApiProperty({ type: [String] }) post_logout_redirect_uris: string[];
  @ApiProperty({ type: [String] }) allowed_scopes: string[];
  @ApiProperty({ isArray: true, enum: GRANT_TYPES }) grant_types: string[];
  @ApiProperty({ enum: TOKEN_ENDPOINT_AUTH_METHODS }) token_endpoint_auth_method: string;
  @ApiProperty({ enum: ID_TOKEN_SIGNING_ALGS }) id_token_signed_response_alg: string;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true })
  jwks: { keys: Array<Record<string, unknown>> } | null;
  @ApiProperty({ nullable: true, type: String }) jwks_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) logo_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) client_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) policy_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) tos_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) client_logout_uri: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'the same as client_logout_uri' })
  frontchannel_logout_uri: string | null;
  @ApiProperty() frontchannel_logout_session_required: boolean;
  @ApiProperty({ nullable: true, type: String }) backchannel_logout_uri: string | null;
  @ApiProperty() backchannel_logout_session_required: boolean;
  @ApiProperty({ nullable: true, type: String }) op_user_agreement_url: string | null;
  @ApiProperty() register_enable: boolean;
  @ApiProperty() is_lock: boolean;
  @ApiProperty() is_group_restricted: boolean;
  @ApiProperty() first_party: boolean;
  @ApiProperty() dpop_bound_access_tokens: boolean;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty({ description: "the seed's name for id_token_signed_response_alg" })
  sing_alg: string;
  @ApiProperty({ type: [String], description: "the seed's name for post_logout_redirect_uris" })
  post_logout_redirect_uri: string[];
  @ApiProperty({ nullable: true, type: String, description: "the seed's policy_uri" })
  op_policy_url: string | null;
  @ApiProperty({ nullable: true, type: String, description: "the seed's tos_uri" })
  op_tos_url: string | null;
}

export class ClientWithSecretDto extends ClientDto {
  @ApiPropertyOptional({
    description: 'confidential clients only; shown in this answer only, store it now',
  })
  client_secret?: string;
}

export class ClientPageDto {
  @ApiProperty({ type: [ClientDto] }) data: ClientDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

/** What the hosted login page shows about the app a user is signing in to. */
export class ClientDisplayDto {
  @ApiProperty() client_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) logo_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) client_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) policy_uri: string | null;
  @ApiProperty({ nullable: true, type: String }) tos_uri: string | null;
  @ApiProperty() register_enable: boolean;
  @ApiProperty() tenant_display_name: string;
}
