import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class AuditQuery {
  @ApiPropertyOptional({
    description: 'event type, exact (`login.failure`) or a prefix ending in `*` (`admin.*`)',
    example: 'login.*',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z0-9_.-]+\*?$/, { message: 'must be a dotted event type, optionally ending in *' })
  type?: string;

  @ApiPropertyOptional({
    description: 'a user id: events where the user is the subject or the actor',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  user?: string;

  @ApiPropertyOptional({ enum: ['success', 'failure'] })
  @IsOptional()
  @IsIn(['success', 'failure'])
  outcome?: 'success' | 'failure';

  @ApiPropertyOptional({ description: 'inclusive lower bound (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'exclusive upper bound (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;
}

export class AuditEventDto {
  @ApiProperty() event_id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty({ format: 'date-time' }) occurred_at: string;
  @ApiProperty({ example: 'login.success' }) type: string;
  @ApiProperty({ enum: ['user', 'api_key', 'system'] }) actor_type: string;
  @ApiProperty({ nullable: true, type: String }) actor_id: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'user' }) subject_type: string | null;
  @ApiProperty({ nullable: true, type: String }) subject_id: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome: string;
  @ApiProperty({ nullable: true, type: String, example: 'password' }) method: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) data: AuditEventDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'pass as `cursor` for the next page; null at the end',
  })
  next_cursor: string | null;
}
