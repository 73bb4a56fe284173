import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

export class TokenDto {
  @ApiProperty({ description: 'the token from the mailed link' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  token: string;
}

export class PasswordResetRequestDto {
  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  email: string;
}

export class PasswordResetConfirmDto extends TokenDto {
  @ApiProperty({ writeOnly: true })
  @IsString()
  @MaxLength(1024)
  password: string;
}

export class EmailChangeDto {
  @ApiProperty({ example: 'alice@new.example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  new_email: string;
}

export class AcceptedDto {
  @ApiProperty({ example: 'accepted' })
  status: string;

  @ApiProperty()
  detail: string;
}

export class EmailChangedDto {
  @ApiProperty()
  email: string;
}

export class VerifiedDto {
  @ApiProperty({ example: true })
  verified: boolean;
}
