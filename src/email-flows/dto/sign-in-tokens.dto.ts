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
