import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';

export type Resolution = 'day' | 'hour' | 'minute';
export const RESOLUTIONS: Resolution[] = ['day', 'hour', 'minute'];

export class LoginAnalyticsQuery {
  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'inclusive, rounded down to the resolution; default: 30 days, 48 hours or 60 minutes before end',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  start?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'exclusive, rounded up to the resolution; default now',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  end?: string;

  @ApiPropertyOptional({ enum: RESOLUTIONS, default: 'day' })
  @IsOptional()
  @IsIn(RESOLUTIONS)
  resolution: Resolution = 'day';
}

export class MethodCountsDto {
  @ApiProperty() successes: number;
  @ApiProperty() failures: number;
}

export class LoginBucketDto {
  @ApiProperty({ format: 'date-time', description: 'bucket start (UTC)' }) start: string;
  @ApiProperty() successes: number;
  @ApiProperty() failures: number;
  @ApiProperty({ description: 'distinct users with a successful sign-in in the bucket' })
  unique_users: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/MethodCountsDto' },
  })
  by_method: Record<string, MethodCountsDto>;
}

export class LoginTotalsDto {
  @ApiProperty() successes: number;
  @ApiProperty() failures: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/MethodCountsDto' },
  })
  by_method: Record<string, MethodCountsDto>;
}

export class DailyActiveDto {
  @ApiProperty({ example: '2026-01-31' }) date: string;
  @ApiProperty() users: number;
}

export class MonthlyActiveDto {
  @ApiProperty({ example: '2026-01' }) month: string;
  @ApiProperty() users: number;
}

export class ActiveUsersDto {
  @ApiProperty({ type: [DailyActiveDto], description: 'every UTC day the range touches' })
  daily: DailyActiveDto[];
  @ApiProperty({ type: [MonthlyActiveDto], description: 'every UTC month the range touches' })
  monthly: MonthlyActiveDto[];
}

export class LoginAnalyticsDto {
  @ApiProperty({ enum: RESOLUTIONS }) resolution: Resolution;
  @ApiProperty({ format: 'date-time' }) start: string;
  @ApiProperty({ format: 'date-time' }) end: string;
  @ApiProperty({ type: [LoginBucketDto] }) buckets: LoginBucketDto[];
  @ApiProperty({ type: LoginTotalsDto }) totals: LoginTotalsDto;
  @ApiProperty({ type: ActiveUsersDto }) active_users: ActiveUsersDto;
}
