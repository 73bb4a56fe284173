import { ApiPropertyOptional } from '@nestjs/swagger';
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
} from 'class-validator';

export const EAM_METHODS = ['totp', 'passkey'] as const;

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
      'which second factors satisfy Entra here (a passkey reaches possessionorinherence with amr fido)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(EAM_METHODS, { each: true })
  methods?: string[];
}
