import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ListQuery } from '../../common/pagination.js';

export const PLATFORM_ACTIONS = [
  'operator_key.create',
  'operator_key.update',
  'operator_key.regenerate',
  'operator_key.delete',
  'tenant.create',
  'tenant.update',
  'tenant.delete',
] as const;
export type PlatformAction = (typeof PLATFORM_ACTIONS)[number];

export class PlatformAuditQuery extends ListQuery {
  @ApiPropertyOptional({
    description: 'an action, exact (`tenant.delete`) or a prefix ending in `*` (`operator_key.*`)',
    example: 'operator_key.*',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z0-9_.-]+\*?$/, { message: 'must be a dotted action, optionally ending in *' })
  action?: string;

  @ApiPropertyOptional({ description: 'inclusive lower bound (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'exclusive upper bound (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class PlatformAuditEventDto {
  @ApiProperty() event_id: string;
  @ApiProperty({ format: 'date-time' }) occurred_at: string;
  @ApiProperty({ enum: PLATFORM_ACTIONS }) action: string;
  @ApiProperty({ enum: ['api_key', 'system'] }) actor_type: string;
  @ApiProperty({ nullable: true, type: String, description: 'the calling key id' })
  actor_id: string | null;
  @ApiProperty({ nullable: true, type: String, enum: ['operator', 'tenant', 'user'] })
  actor_holder: string | null;
  @ApiProperty({ enum: ['operator_key', 'tenant'] }) target_type: string;
  @ApiProperty({ nullable: true, type: String }) target_id: string | null;
  @ApiProperty({ nullable: true, type: String }) tenant_id: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) request_id: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'names, never values or secrets: changed fields, granted scopes',
  })
  details: Record<string, unknown>;
}

export class PlatformAuditEventPageDto {
  @ApiProperty({ type: [PlatformAuditEventDto] }) data: PlatformAuditEventDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
