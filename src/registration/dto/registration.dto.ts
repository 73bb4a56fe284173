import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class IssueInitialTokenDto {
  @ApiPropertyOptional({ minimum: 60, maximum: 2_592_000, default: 86_400, description: 'seconds' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(2_592_000)
  expires_in?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 10_000,
    description: 'clients it may register; unlimited when absent',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  max_uses?: number;

  @ApiPropertyOptional({ maxLength: 200, description: 'who it is for' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  description?: string;
}

export class InitialTokenDto {
  @ApiProperty({ format: 'uuid' }) token_id: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ nullable: true, type: Number }) max_uses: number | null;
  @ApiProperty() uses: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class IssuedInitialTokenDto extends InitialTokenDto {
  @ApiProperty({ description: 'Bearer token for POST /{tenant_id}/register; shown only here' })
  initial_access_token: string;
}

export class InitialTokenPageDto {
  @ApiProperty({ type: [InitialTokenDto] }) data: InitialTokenDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
