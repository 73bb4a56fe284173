import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class TotpCodeDto {
  @ApiProperty({
    description: 'a current 6-digit code of the authenticator (DELETE also takes a recovery code)',
    example: '123456',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  code: string;
}

export class TotpEnrolmentDto {
  @ApiProperty({ description: 'base32 secret, for typing into an authenticator by hand' })
  secret: string;

  @ApiProperty({ example: 'otpauth://totp/alice?secret=...&issuer=Acme' })
  otpauth_uri: string;

  @ApiProperty({ description: 'the otpauth URI as a QR code, a data: URL of a PNG' })
  qr_png_data_url: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    description: 'ten single-use codes, shown only in this answer',
    example: ['7k3m-q9x2-ab'],
  })
  recovery_codes: string[];
}

export class TotpConfirmedDto extends RecoveryCodesDto {
  @ApiProperty()
  enabled: boolean;
}

export class TotpStatusDto {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ description: 'enrolled but not confirmed yet' })
  pending: boolean;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  enabled_at: string | null;

  @ApiProperty()
  recovery_codes_left: number;
}
