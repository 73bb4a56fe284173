import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import { ALL_SCOPES } from '../../auth/scopes.js';

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({ isArray: true, enum: ALL_SCOPES })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(ALL_SCOPES.length)
  @IsIn(ALL_SCOPES, { each: true })
  scopes: string[];

  @ApiPropertyOptional({ format: 'uuid', description: 'makes a user key: it acts as this user' })
  @IsOptional()
  @IsUUID()
  user_id?: string;

  @ApiPropertyOptional({
    description:
      "must equal the tenant in the path (the seed's body names it); not for operator keys",
  })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class UpdateApiKeyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ description: 'false revokes the key without deleting its record' })
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) key_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ isArray: true, enum: ALL_SCOPES }) scopes: string[];
  @ApiProperty({ nullable: true, type: String }) tenant_id: string | null;
  @ApiProperty({ nullable: true, type: String }) user_id: string | null;
  @ApiProperty({ enum: ['operator', 'tenant', 'user'] }) kind: string;
  @ApiProperty({ description: 'first characters of the key, to recognise it' }) key_prefix: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) last_used_at: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'same as last_used_at (older clients read this name)',
  })
  last_use_at: string | null;
  @ApiProperty() is_active: boolean;
}

export class ApiKeyWithSecretDto extends ApiKeyDto {
  @ApiProperty({ description: 'the key itself; shown only in this answer' }) api_key: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) data: ApiKeyDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class ScopeDto {
  @ApiProperty() scope: string;
  @ApiProperty() description: string;
}
