import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

/** The seed's page size when a caller pages with `page` but names no `page_size`. */
export const SEED_PAGE_SIZE = 100;

/**
 * Query parameters shared by every list. Two ways to ask for a window, as the two families of
 * clients do: `limit`/`offset` (default 10 from 0), or the seed's `page` (from 0) and
 * `page_size` (default 100), which take precedence when given; `skip` is the seed's name for
 * `offset` on the client list. `sort_direction` defaults to -1 (newest first), as in the seed.
 * {@link ListQuery.normalize} folds them into `limit` and `offset`, which is all services read;
 * the validation pipe calls it after validating.
 */
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

  @ApiPropertyOptional({ minimum: 0, description: "the seed's name for `offset`" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  skip?: number;

  @ApiPropertyOptional({
    minimum: 0,
    description: 'page number from 0 (seed style); overrides `offset`',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 500,
    description: `page size (seed style; ${SEED_PAGE_SIZE} when \`page\` is given alone); overrides \`limit\``,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  page_size?: number;

  @ApiPropertyOptional({ enum: [-1, 1], default: -1, description: '1 ascending, -1 descending' })
  @IsOptional()
  @Type(() => Number)
  @IsIn([-1, 1])
  sort_direction: -1 | 1 = -1;

  /** Folds the seed-style parameters into `limit`/`offset`; idempotent. */
  normalize(): this {
    if (this.skip !== undefined && this.page === undefined) this.offset = this.skip;
    if (this.page_size !== undefined) this.limit = this.page_size;
    else if (this.page !== undefined) this.limit = SEED_PAGE_SIZE;
    if (this.page !== undefined) this.offset = this.page * this.limit;
    return this;
  }
}

export interface Page<T> {
  data: T[];
  has_next: boolean;
  total_count: number;
}

export function page<T>(data: T[], total: number, q: { limit: number; offset: number }): Page<T> {
  return { data, has_next: q.offset + data.length < total, total_count: total };
}
