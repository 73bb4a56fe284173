import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { UserDto } from './user.dto.js';

/** The profile fields a user may change themselves. */
export class UpdateMeDto {
  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MaxLength(200)
  display_name?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'pt-BR' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @Matches(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, {
    message: 'locale must be a language tag such as en or pt-BR',
  })
  locale?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'https://example.com/me.png' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsUrl(
    { protocols: ['https'], require_protocol: true },
    { message: 'picture must be an https URL' },
  )
  @MaxLength(2000)
  picture?: string | null;
}

export class ChangeOwnPasswordDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1024) current_password!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(1024) new_password!: string;
}

/** One linked upstream identity (GET /me `identities`, GET /me/identities). */
export class IdentityLinkDto {
  @ApiProperty({ format: 'uuid', description: 'the link id (to unlink it)' }) id: string;
  @ApiProperty() provider_id: string;
  @ApiProperty({ description: "the provider's label, as on the sign-in page" }) label: string;
  @ApiProperty({ nullable: true, type: String }) icon_url: string | null;
  @ApiProperty({ description: 'the upstream account id (`sub`)' }) subject: string;
  @ApiProperty({ nullable: true, type: String, description: 'the upstream email, last seen' })
  email: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_used_at: string | null;
}

/** GET /me: the user, with the upstream identities linked to the account. */
export class MeDto extends UserDto {
  @ApiProperty({ type: [IdentityLinkDto], description: 'linked upstream identities (issue 21)' })
  identities: IdentityLinkDto[];
}
