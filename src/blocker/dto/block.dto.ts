import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ListQuery } from '../../common/pagination.js';

/** The blocked-* lists take the shared paging (the seed pages them with `page`/`page_size`). */
export class BlockListQuery extends ListQuery {
  /** The page asked for: rows to take, rows to skip, and the order. */
  window(): { size: number; offset: number; dir: 'ASC' | 'DESC' } {
    return {
      size: this.limit,
      offset: this.offset,
      dir: this.sort_direction === -1 ? 'DESC' : 'ASC',
    };
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
