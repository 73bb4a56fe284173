import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { AuthReqDto } from './authn.dto.js';

/** The input of the stipulation at hand (the answer's `stipulation`); the others are ignored. */
export class StipulationStepDto extends AuthReqDto {
  @ApiProperty({ description: 'the step_token of the previous answer' })
  @IsString()
  @MaxLength(4096)
  step_token!: string;

  @ApiPropertyOptional({ description: 'accepted_terms: true accepts the current version' })
  @IsOptional()
  @IsBoolean()
  accept_terms?: boolean;

  @ApiPropertyOptional({ description: 'password_changed_after_reset: the new password' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  new_password?: string;

  @ApiPropertyOptional({ description: 'password_changed_after_reset: the new password again' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  confirm_password?: string;

  @ApiPropertyOptional({
    description:
      'verified_email: true mails the verification link again; absent, the address is checked',
  })
  @IsOptional()
  @IsBoolean()
  resend_verification?: boolean;

  @ApiPropertyOptional({
    type: 'object',
    properties: {
      challenge_id: { type: 'string' },
      response: { type: 'object', additionalProperties: true },
    },
    required: ['challenge_id', 'response'],
    description:
      'passkey: the challenge_id of passkey_options and the WebAuthn registration response',
  })
  @IsOptional()
  @IsObject()
  passkey?: { challenge_id: string; response: unknown };
}
