import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { SIGNING_ALGS, type SigningAlg } from '../../../libs/crypto/keys.js';
import { ListQuery } from '../../common/pagination.js';
import type { SigningKeyState } from '../signing-key.entity.js';

export const SIGNING_KEY_STATES: SigningKeyState[] = ['active', 'grace', 'retired'];
export const DEFAULT_GRACE_SECONDS = 24 * 3600;
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

export class RotateSigningKeysDto {
  @ApiPropertyOptional({
    enum: SIGNING_ALGS,
    description: 'rotate only this algorithm; default all',
  })
  @IsOptional()
  @IsIn(SIGNING_ALGS)
  alg?: SigningAlg;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_SECONDS,
    default: DEFAULT_GRACE_SECONDS,
    description:
      'how long the replaced key stays in the JWKS (verifying only) before it retires; 0 retires it at once',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_SECONDS)
  grace_seconds?: number;
}

export class SigningKeyListQuery extends ListQuery {
  @ApiPropertyOptional({ enum: SIGNING_KEY_STATES })
  @IsOptional()
  @IsIn(SIGNING_KEY_STATES)
  state?: SigningKeyState;
}

export class SigningKeyDto {
  @ApiProperty() kid: string;
  @ApiProperty({ enum: SIGNING_ALGS }) alg: SigningAlg;
  @ApiProperty({
    enum: SIGNING_KEY_STATES,
    description:
      'active signs; grace only verifies (still in the JWKS); retired is gone from the JWKS',
  })
  state: SigningKeyState;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String, description: 'when it stopped signing' })
  rotated_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'end of the grace period' })
  expires_at: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the public JWK (never private parameters)',
  })
  public_jwk: Record<string, unknown>;
}

export class SigningKeyPageDto {
  @ApiProperty({ type: [SigningKeyDto] }) data: SigningKeyDto[];
  @ApiProperty() has_next: boolean;
  @ApiProperty() total_count: number;
}

export class RotationResultDto {
  @ApiProperty({ type: [SigningKeyDto], description: 'the new active keys' })
  created: SigningKeyDto[];
  @ApiProperty({
    type: [SigningKeyDto],
    description: 'the keys they replace, now in grace (or retired)',
  })
  superseded: SigningKeyDto[];
}
