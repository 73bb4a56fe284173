import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class CreateDeviceLinkDto {
  @ApiPropertyOptional({
    description: 'seconds the link stays valid (5 minutes to 7 days; default 1 hour)',
    minimum: 300,
    maximum: 604800,
    example: 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(300)
  @Max(604800)
  expires_in?: number;
}

export class CreatedDeviceLinkDto {
  @ApiProperty({ format: 'uuid' })
  link_id: string;

  @ApiProperty({
    description: 'the one-time link; shown only in this answer (only its hash is stored)',
    example: 'https://id.example.com/acme/device-link/…',
  })
  url: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;
}

export class DeviceLinkDto {
  @ApiProperty({ format: 'uuid' })
  link_id: string;

  @ApiProperty({ format: 'uuid' })
  user_id: string;

  @ApiProperty({ enum: ['open', 'used', 'expired', 'revoked'] })
  status: 'open' | 'used' | 'expired' | 'revoked';

  @ApiProperty({ enum: ['user', 'api_key', 'system'], description: 'who made the link' })
  created_by_type: string;

  @ApiProperty({ type: String, nullable: true })
  created_by_id: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  used_at: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  revoked_at: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'passkey it added' })
  passkey_id: string | null;
}

export class DeviceLinkPageDto {
  @ApiProperty({ type: [DeviceLinkDto] })
  data: DeviceLinkDto[];

  @ApiProperty()
  has_next: boolean;

  @ApiProperty()
  total_count: number;
}
