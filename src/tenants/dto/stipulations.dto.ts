import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

/**
 * Rules a user must meet before a sign-in completes; an unmet rule routes the user through its
 * hosted page (or headless step) first, then the authorisation goes on. Omitted fields keep
 * their value.
 */
export class StipulationsDto {
  @ApiPropertyOptional({
    description:
      'The user’s email address must be verified (a verification mail is sent from the page).',
  })
  @IsOptional()
  @IsBoolean()
  verified_email?: boolean;

  @ApiPropertyOptional({
    description:
      'The user must have accepted the current terms (`terms_version`); a new version asks again.',
  })
  @IsOptional()
  @IsBoolean()
  accepted_terms?: boolean;

  @ApiPropertyOptional({
    description: 'The user must have a second factor (TOTP); enrolment is offered at sign-in.',
  })
  @IsOptional()
  @IsBoolean()
  second_factor?: boolean;

  @ApiPropertyOptional({
    description:
      'The user must have a passkey; registering one is asked at sign-in (needs passkey_enabled).',
  })
  @IsOptional()
  @IsBoolean()
  passkey?: boolean;

  @ApiPropertyOptional({
    description: 'After an admin set the user’s password, the user must choose a new one.',
  })
  @IsOptional()
  @IsBoolean()
  password_changed_after_reset?: boolean;
}
