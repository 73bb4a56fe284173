import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

/** Query parameters shared by every list: `limit`, `offset`, `sort_by`, `sort_direction`. */
export class ListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 10;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset: number = 0;

  @ApiPropertyOptional({ enum: [-1, 1], default: 1, description: '1 ascending, -1 descending' })
  @IsOptional()
  @Type(() => Number)
  @IsIn([-1, 1])
  sort_direction: -1 | 1 = 1;
}

export interface Page<T> {
  data: T[];
  has_next: boolean;
  total_count: number;
}

export function page<T>(data: T[], total: number, q: { limit: number; offset: number }): Page<T> {
  return { data, has_next: q.offset + data.length < total, total_count: total };
}
