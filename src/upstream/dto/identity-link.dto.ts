import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { PROVIDER_ID } from '../upstream-providers.service.js';

/** An admin's link of an upstream identity to a user, before their first upstream sign-in. */
export class CreateIdentityLinkDto {
  @ApiProperty({ pattern: PROVIDER_ID.source, description: 'an upstream provider of the tenant' })
  @IsString()
  @Matches(PROVIDER_ID, { message: 'provider_id must be a provider id' })
  provider_id: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 255,
    description: 'the upstream account id (`sub`; GitHub: the numeric user id)',
  })
  @IsString()
  @Length(1, 255)
  subject: string;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 320, description: 'for display' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(3, 320)
  email?: string | null;
}
