import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class CreateSignInTokenDto {
  @ApiPropertyOptional({
    description: 'seconds the token stays valid (1 minute to 1 hour; default 15 minutes)',
    minimum: 60,
    maximum: 3600,
    example: 900,
  })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(3600)
  expires_in?: number;
}

export class SignInTokenDto {
  @ApiProperty({ format: 'uuid', description: 'names the token for listing and revoking' })
  id: string;

  @ApiProperty({
    description: 'the one-time token; shown only in this answer (only its hash is stored)',
  })
  token: string;

  @ApiProperty({
    description:
      'the hosted URL that signs the user in with the token; add `interaction=<uid>` to continue a pending authorisation, else it ends on the account page',
    example: 'https://id.example.com/acme/login/sign-in-token?token=…',
  })
  url: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;
}

/** An issued support token as listed to admins: never the token itself. */
export class SignInTokenInfoDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: ['active', 'used', 'expired'] })
  state: 'active' | 'used' | 'expired';

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  used_at: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the API key (or principal) that issued it',
  })
  created_by: string | null;
}

export class SignInTokenPageDto {
  @ApiProperty({ type: [SignInTokenInfoDto] }) data: SignInTokenInfoDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
