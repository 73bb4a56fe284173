import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ChangeStartDto, UploadDto } from '../../pin-pattern/dto/pin-pattern.dto.js';

export class PinPatternResetRequestDto {
  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  email: string;
}

export class PinPatternLinkStartDto extends ChangeStartDto {
  @ApiProperty({ description: 'the token from the mailed link (its `token` query parameter)' })
  @IsString()
  @MaxLength(256)
  token: string;
}

export class PinPatternLinkFinishDto extends UploadDto {
  @ApiProperty({ description: 'the token from the mailed link (its `token` query parameter)' })
  @IsString()
  @MaxLength(256)
  token: string;
}

export class CreatePinPatternLinkDto {
  @ApiPropertyOptional({
    description: 'seconds the link stays valid (5 minutes to 7 days; default 72 hours)',
    minimum: 300,
    maximum: 604800,
    example: 86400,
  })
  @IsOptional()
  @IsInt()
  @Min(300)
  @Max(604800)
  expires_in?: number;
}

export class PinPatternLinkDto {
  @ApiProperty({
    description: 'the one-time link; shown only in this answer (only its hash is stored)',
    example: 'https://id.example.com/acme/login/pin-pattern/reset?token=…',
  })
  url: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;

  @ApiProperty({ description: 'whether the link was mailed to the user' })
  mailed: boolean;
}
