import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { TENANT_ID_PATTERN } from '../../../libs/tenancy/index.js';

export class ExportQuery {
  @ApiPropertyOptional({
    enum: ['passphrase', 'plaintext', 'omit'],
    default: 'passphrase',
    description:
      'passphrase: secrets sealed with a key derived from the X-Transfer-Passphrase header (scrypt, AES-256-GCM); omit: no secrets (no TOTP, no signing keys, clients without secrets); plaintext: secrets in the clear, for a pipe into another tool only',
  })
  @IsOptional()
  @IsIn(['passphrase', 'plaintext', 'omit'])
  secrets?: 'passphrase' | 'plaintext' | 'omit';

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description: "include the tenant's active and grace signing keys (needs secrets)",
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  signing_keys?: 'true' | 'false';
}

export class ImportQuery {
  @ApiPropertyOptional({
    description: "the tenant to write into; the document's own tenant id when absent",
    example: 'acme-copy',
  })
  @IsOptional()
  @IsString()
  @Matches(TENANT_ID_PATTERN)
  tenant_id?: string;
}

export class ImportReportDto {
  @ApiProperty({ example: 'acme-copy' })
  tenant_id: string;

  @ApiProperty({ example: 'acme' })
  source_tenant_id: string;

  @ApiProperty({ description: 'whether the import created the tenant' })
  created: boolean;

  @ApiProperty({
    description:
      'records written, by kind (users, clients, passkeys, totp, recovery_codes, groups, group_members, signing_keys, ...); clients_without_secret counts confidential clients that arrived without one',
    example: { users: 2, clients: 1, passkeys: 1 },
    type: 'object',
    additionalProperties: { type: 'integer' },
  })
  counts: Record<string, number>;
}
