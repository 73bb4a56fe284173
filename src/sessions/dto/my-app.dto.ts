import { ApiProperty } from '@nestjs/swagger';

export class MyAppDto {
  @ApiProperty() client_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: String }) logo_uri!: string | null;
  @ApiProperty({ nullable: true, type: String }) client_uri!: string | null;
  @ApiProperty({ type: [String], description: 'OIDC scopes the user granted' }) scopes!: string[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) granted_at!: string | null;
}

export class MyAppPageDto {
  @ApiProperty({ type: [MyAppDto] }) data!: MyAppDto[];
  @ApiProperty() has_next!: boolean;
  @ApiProperty() total_count!: number;
}
