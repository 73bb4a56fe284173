import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsNotEmptyObject,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';

/** A name people can read in a list: printable, 1-64 characters. */
const NAME = /^[^\p{Cc}]{1,64}$/u;

export class PasskeyDto {
  @ApiProperty({ format: 'uuid' })
  passkey_id: string;

  @ApiProperty({ description: 'base64url credential id' })
  credential_id: string;

  @ApiProperty({ format: 'uuid' })
  user_id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ type: [String], example: ['internal', 'hybrid'] })
  transports: string[];

  @ApiProperty({ description: 'the credential is backed up (synced passkey)' })
  backed_up: boolean;

  @ApiProperty({ enum: ['singleDevice', 'multiDevice'] })
  device_type: string;

  @ApiProperty({ type: String, nullable: true, description: 'authenticator model (AAGUID)' })
  aaguid: string | null;

  @ApiProperty({ description: 'last sign counter seen (0: the authenticator keeps none)' })
  counter: number;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  last_used_at: string | null;
}

export class PasskeyPageDto {
  @ApiProperty({ type: [PasskeyDto] })
  data: PasskeyDto[];

  @ApiProperty()
  has_next: boolean;

  @ApiProperty()
  total_count: number;
}

export class RenamePasskeyDto {
  @ApiProperty({ example: 'Work laptop' })
  @IsString()
  @Matches(NAME, { message: 'name must be 1-64 printable characters' })
  name: string;
}

export class CeremonyOptionsDto {
  @ApiProperty({ format: 'uuid', description: 'send back with the response' })
  challenge_id: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'PublicKeyCredential options JSON, for @simplewebauthn/browser',
  })
  options: Record<string, unknown>;
}

export class RegisterPasskeyDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  challenge_id: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'RegistrationResponseJSON from startRegistration()',
  })
  @IsObject()
  @IsNotEmptyObject()
  response: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'Work laptop' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(NAME, { message: 'name must be 1-64 printable characters' })
  name?: string;
}
