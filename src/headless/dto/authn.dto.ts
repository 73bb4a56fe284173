import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

const AUTH_REQ_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class StartDto {
  @ApiProperty() @IsString() @MaxLength(200) client_id!: string;
  @ApiProperty() @IsString() @MaxLength(2000) redirect_uri!: string;
  @ApiProperty({ example: 'openid profile' }) @IsString() @MaxLength(1000) scope!: string;
  @ApiProperty({ description: 'PKCE S256 challenge (required)' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43,128}$/)
  code_challenge!: string;
  @ApiPropertyOptional({ enum: ['S256'] })
  @IsOptional()
  @IsIn(['S256'])
  code_challenge_method?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) state?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) nonce?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(254) login_hint?: string;
  @ApiPropertyOptional({ enum: ['login', 'consent', 'none'] })
  @IsOptional()
  @IsIn(['login', 'consent', 'none'])
  prompt?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) max_age?: number;
}

export class AuthReqDto {
  @ApiProperty({ description: 'the interaction id from authn/start or from /authorize' })
  @IsString()
  @Matches(AUTH_REQ_ID)
  auth_req_id!: string;
}

export class IdentifyDto extends AuthReqDto {
  @ApiPropertyOptional({ description: 'username or email as typed (never looked up here)' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  login?: string;
}

export class PasswordDto extends AuthReqDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(254) login!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1024) password!: string;
}

export class PasskeyOptionsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(AUTH_REQ_ID) auth_req_id?: string;
  @ApiPropertyOptional({ description: "that user's passkeys; omitted: a discoverable passkey" })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  login?: string;
}

export class PasskeyVerifyDto extends AuthReqDto {
  @ApiProperty() @IsString() @MaxLength(200) challenge_id!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the WebAuthn assertion (PublicKeyCredential JSON)',
  })
  @IsObject()
  response!: Record<string, unknown>;
}

export class MethodDto extends AuthReqDto {
  @ApiProperty({ description: 'a method id of /authn/policy (not one with steps of its own)' })
  @IsString()
  @Matches(/^[a-z0-9_-]{1,40}$/)
  method!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "the method's form fields, as its login form would post them",
  })
  @IsObject()
  fields!: Record<string, unknown>;
}

export class EmailCodeDto extends AuthReqDto {
  @ApiProperty() @IsString() @Matches(/^[^\s@]+@[^\s@]+$/) @MaxLength(254) email!: string;
}

export class StepCodeDto extends AuthReqDto {
  @ApiProperty({ description: 'the step_token of the previous answer' })
  @IsString()
  @MaxLength(4096)
  step_token!: string;
  @ApiProperty() @IsString() @MaxLength(64) code!: string;
}

export class SignupDto extends AuthReqDto {
  @ApiProperty() @IsString() @MaxLength(254) username!: string;
  @ApiProperty() @IsString() @MaxLength(254) email!: string;
  @ApiPropertyOptional({
    description: 'required where the tenant has passwords; a passkey-only tenant takes none',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;
}

/** next = signup_passkey: the registration answer for the new account's passkey. */
export class SignupPasskeyDto extends AuthReqDto {
  @ApiProperty({ description: 'the step_token of the sign-up answer' })
  @IsString()
  @MaxLength(4096)
  step_token!: string;

  @ApiProperty({ description: 'the challenge_id of passkey_options' })
  @IsString()
  @MaxLength(200)
  challenge_id!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the WebAuthn registration response (PublicKeyCredential JSON)',
  })
  @IsObject()
  response!: Record<string, unknown>;
}

/** An upstream identity provider a custom UI may offer as "Sign in with <label>". */
export class UpstreamButtonDto {
  @ApiProperty({ example: 'google' }) provider_id!: string;
  @ApiProperty({ example: 'Google' }) label!: string;
  @ApiProperty({ type: String, nullable: true }) icon_url!: string | null;
  @ApiProperty({
    description:
      'open in the browser that started the request: the upstream sign-in, back to finish this authorisation',
  })
  start_url!: string;
}

export class StepAnswerDto {
  @ApiProperty() auth_req_id!: string;
  @ApiProperty({ enum: ['continue', 'complete'] }) status!: string;
  @ApiPropertyOptional({
    enum: [
      'authenticate',
      'email_code',
      'magic_link_code',
      'second_factor',
      'enrol',
      'stipulation',
      'signup_passkey',
    ],
  })
  next?: string;
  @ApiPropertyOptional({
    enum: ['password_changed_after_reset', 'verified_email', 'accepted_terms', 'passkey'],
    description: 'next = stipulation: the tenant rule to meet through authn/stipulation',
  })
  stipulation?: string;
  @ApiPropertyOptional({
    type: 'object',
    properties: { version: { type: 'string' }, url: { type: 'string', nullable: true } },
    required: ['version', 'url'],
    description: 'stipulation = accepted_terms: the terms to show',
  })
  terms?: { version: string; url: string | null };
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'stipulation = passkey or next = signup_passkey: {challenge_id, options} to register a passkey with; answer it in authn/stipulation (`passkey`) or authn/signup/passkey',
  })
  passkey_options?: unknown;
  @ApiPropertyOptional({ type: [String] }) methods?: string[];
  @ApiPropertyOptional({
    type: [UpstreamButtonDto],
    description: 'next = authenticate: the upstream identity providers on offer',
  })
  upstream_providers?: UpstreamButtonDto[];
  @ApiPropertyOptional() signup?: boolean;
  @ApiPropertyOptional() step_token?: string;
  @ApiPropertyOptional({
    type: 'object',
    properties: { secret: { type: 'string' }, otpauth_uri: { type: 'string' } },
    required: ['secret', 'otpauth_uri'],
  })
  totp?: { secret: string; otpauth_uri: string };
  @ApiPropertyOptional({ type: [String] }) recovery_codes?: string[];
  @ApiPropertyOptional({ description: 'open in the browser that started the request' })
  finish_url?: string;
  @ApiPropertyOptional({
    description:
      'complete, and the tenant uses a PIN/pattern the user has not set: offer it once signed in (authn/zkp/change/start, change)',
  })
  pin_pattern_offer?: boolean;
}

export class ClientInfoDto {
  @ApiProperty() client_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty({ nullable: true, type: String }) logo_uri!: string | null;
  @ApiProperty({ nullable: true, type: String }) client_uri!: string | null;
  @ApiProperty({ nullable: true, type: String }) op_policy_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) op_tos_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) op_user_agreement_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) client_logout_uri!: string | null;
  @ApiProperty() register_enable!: boolean;
  @ApiProperty() tenant_name!: string;
}

export class SignInPolicyDto {
  @ApiProperty() tenant_id!: string;
  @ApiProperty() display_name!: string;
  @ApiProperty({ type: [String], description: 'first-factor methods, in the order offered' })
  methods!: string[];
  @ApiProperty() password_enabled!: boolean;
  @ApiProperty() password_min_length!: number;
  @ApiProperty() passkey_enabled!: boolean;
  @ApiProperty() is_2fa!: boolean;
  @ApiProperty() register_enable!: boolean;
  @ApiProperty() use_pin!: boolean;
  @ApiProperty() pin_size!: number;
  @ApiProperty() use_pattern!: boolean;
  @ApiProperty() pattern_size!: number;
  @ApiProperty() show_pin_when_typing!: boolean;
  @ApiProperty({ type: [String] }) login_order!: string[];
}

export class ClientTenantDto {
  @ApiProperty({ type: ClientInfoDto }) client!: ClientInfoDto;
  @ApiProperty({ type: SignInPolicyDto }) tenant!: SignInPolicyDto;
}

export class SignedClientTenantDto {
  @ApiProperty({ description: 'JWT (RS256, tenant key) with iss, iat, exp, client, tenant' })
  data!: string;
}
