import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

export const EAM_METHODS = ['totp', 'passkey', 'pin_pattern'] as const;
export type EamMethod = (typeof EAM_METHODS)[number];

/** One acr value and the methods that reach it. */
export class EamAcrMethodsDto {
  @ApiProperty({ example: 'possessionorinherence' })
  @IsString()
  @Length(1, 100)
  acr: string;

  @ApiProperty({ isArray: true, enum: EAM_METHODS, example: ['totp', 'passkey'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(EAM_METHODS, { each: true })
  methods: string[];
}

/**
 * Microsoft Entra ID external authentication method: Entra sends its signed id_token_hint to
 * `/{tenant_id}/authorize` and this tenant runs the second factor. Omitted fields keep their value.
 */
export class EntraEamDto {
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://login.microsoftonline.com/<entra-tenant-id>/v2.0',
    description: 'the iss of the id_token_hint Entra signs',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 512)
  issuer?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
    description: "Entra's JWKS (fetched over https, cached, refreshed on an unknown kid)",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsUrl({ require_protocol: true, require_tld: false, protocols: ['https', 'http'] })
  @MaxLength(2048)
  jwks_uri?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'the app id Entra sends as client_id: a client of this tenant',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 128)
  client_id?: string | null;

  @ApiPropertyOptional({ type: [String], default: ['possessionorinherence'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  accepted_acr?: string[];

  @ApiPropertyOptional({
    isArray: true,
    enum: EAM_METHODS,
    default: ['totp', 'passkey'],
    description:
      'which second factors are offered (a passkey answers amr fido, a TOTP code otp, a PIN/pattern pin and pattern)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(EAM_METHODS, { each: true })
  methods?: string[];

  @ApiPropertyOptional({
    type: [EamAcrMethodsDto],
    default: [{ acr: 'possessionorinherence', methods: ['totp', 'passkey'] }],
    description:
      'which methods reach which acr value; an accepted acr without an entry is reached by every method. A PIN/pattern (something the user knows) reaches possessionorinherence only when listed here',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => EamAcrMethodsDto)
  acr_methods?: EamAcrMethodsDto[];
}
