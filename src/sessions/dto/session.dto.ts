import { ApiProperty } from '@nestjs/swagger';

export class SessionDto {
  @ApiProperty({ description: 'stable for the life of the session' }) session_id: string;
  @ApiProperty({ description: 'when the user signed in' }) created_at: string;
  @ApiProperty({ description: 'last sign-in, authorization or account page visit' })
  last_seen_at: string;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ type: [String], description: 'applications this session signed in to' })
  client_ids: string[];
  @ApiProperty() expires_at: string;
}

export class SessionPageDto {
  @ApiProperty({ type: [SessionDto] }) data: SessionDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class RevokedSessionsDto {
  @ApiProperty({ description: 'sessions ended' }) revoked: number;
}
