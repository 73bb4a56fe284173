import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ListQuery } from '../../common/pagination.js';

/** Lists take `page`/`page_size` (as the issue names them) or the usual `limit`/`offset`. */
export class BlockListQuery extends ListQuery {
  @ApiPropertyOptional({ minimum: 1, description: '1-based page; overrides `offset`' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, description: 'page size; overrides `limit`' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  page_size?: number;

  /** The page asked for, whichever way it was asked: rows to take, rows to skip, and the order. */
  window(): { size: number; offset: number; dir: 'ASC' | 'DESC' } {
    const size = this.page_size ?? this.limit;
    const offset = this.page !== undefined ? (this.page - 1) * size : this.offset;
    return { size, offset, dir: this.sort_direction === -1 ? 'DESC' : 'ASC' };
  }
}

export class BlockDto {
  @ApiPropertyOptional({ description: 'blocked-ips only; an IPv6 block covers its /64' })
  ip?: string;
  @ApiPropertyOptional({ description: 'blocked-users only: the login as typed, lowercased' })
  username?: string;
  @ApiPropertyOptional({
    description: 'blocked-users only: the user whose failures (under any login) started the block',
  })
  user_id?: string;
  @ApiPropertyOptional({ description: 'blocked-clients only: the OAuth client id' })
  client_id?: string;
  @ApiProperty({ format: 'date-time' }) blocked_until: string;
  @ApiProperty() retry_after_seconds: number;
  @ApiProperty({ description: 'failed attempts that started the block' }) attempts: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class BlockPageDto {
  @ApiProperty({ type: [BlockDto] }) data: BlockDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}
