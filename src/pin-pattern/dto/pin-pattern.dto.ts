import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEmail,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { USERNAME_PATTERN } from '../../users/dto/user.dto.js';

/** OPAQUE messages are base64url; none of this profile's is longer than a kilobyte. */
const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const opaqueMessage = (description: string) => [
  ApiProperty({ description, maxLength: 2048 }),
  IsString(),
  Length(1, 2048),
  Matches(B64URL, { message: 'must be base64url' }),
];
const apply =
  (decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

export class AuthReqQueryDto {
  @ApiPropertyOptional({
    description: 'the pending authorisation (hosted interaction id) a sign-in will finish',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  auth_req_id?: string;
}

class UsernameDto {
  @ApiProperty({ pattern: USERNAME_PATTERN.source, example: 'alice' })
  @IsString()
  @Length(1, 128)
  @Matches(USERNAME_PATTERN, { message: 'username may contain only letters, digits and _ . @ -' })
  username: string;
}

class SignupIdentityDto extends UsernameDto {
  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  email: string;
}

export class RegisterStartDto extends SignupIdentityDto {
  @apply(opaqueMessage('the OPAQUE registration request (client.startRegistration)'))
  registration_request: string;
}

export class RegisterStartAnswerDto {
  @ApiProperty({ description: 'the OPAQUE registration response (for client.finishRegistration)' })
  registration_response: string;
}

export class UploadDto {
  @apply(opaqueMessage('the OPAQUE registration record (client.finishRegistration)'))
  encrypted_commitment: string;

  @ApiProperty({ example: 'opaque-1', description: 'the OPAQUE profile the client used' })
  @IsString()
  @MaxLength(64)
  proto_version: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'ignored' })
  @IsOptional()
  @IsObject()
  log_data?: Record<string, unknown>;
}

export class RegisterDto extends UploadDto {
  @ApiProperty({ pattern: USERNAME_PATTERN.source, example: 'alice' })
  @IsString()
  @Length(1, 128)
  @Matches(USERNAME_PATTERN, { message: 'username may contain only letters, digits and _ . @ -' })
  username: string;

  @ApiProperty({ example: 'alice@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  email: string;
}

export class RegisteredDto {
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty() username: string;
}

export class ChangeStartDto {
  @apply(opaqueMessage('the OPAQUE registration request (client.startRegistration)'))
  registration_request: string;
}

export class ChangeDto extends UploadDto {}

export class ChangedDto {
  @ApiProperty({ isArray: true, enum: ['PIN', 'PATTERN'] }) factors: string[];
}

export class PinPatternStatusDto {
  @ApiProperty() enrolled: boolean;
  @ApiProperty({ isArray: true, enum: ['PIN', 'PATTERN'] }) factors: string[];
  @ApiProperty({ nullable: true, type: String }) updated_at: string | null;
}

export class ChallengeDto {
  @ApiProperty({ description: 'username or email', example: 'alice' })
  @IsString()
  @Length(1, 254)
  username: string;

  @apply(opaqueMessage('the OPAQUE credential request (client.startLogin)'))
  cipherKey: string;
}

export class AuxChallengeDto {
  @apply(opaqueMessage('the OPAQUE credential request (client.startLogin)'))
  cipherKey: string;
}

export class ChallengeAnswerDto {
  @ApiProperty({ format: 'uuid' }) challenge_id: string;
  @ApiProperty({ description: 'the OPAQUE credential response (for client.finishLogin)' })
  challenge_data: string;
  @ApiProperty({ example: 'opaque-1' }) proto_version: string;
}

export class AuthenticateDto extends ChallengeDto {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  @MaxLength(64)
  challenge_id: string;

  @apply(opaqueMessage('the OPAQUE finalisation (client.finishLogin: finishLoginRequest)'))
  challenge_data: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'ignored' })
  @IsOptional()
  @IsObject()
  ber?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'ignored' })
  @IsOptional()
  @IsObject()
  log_data?: Record<string, unknown>;
}

export class AuxAuthenticateDto {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  @MaxLength(64)
  challenge_id: string;

  @apply(opaqueMessage('the OPAQUE finalisation (client.finishLogin: finishLoginRequest)'))
  challenge_data: string;
}

export class AuthenticatedDto {
  @ApiProperty({
    description: 'single use, two minutes: finishes the authorisation named by auth_req_id',
  })
  nonce: string;
  @ApiProperty({ description: 'a further step (second factor, email) follows the sign-in' })
  need_verify: boolean;
}

export class VerifiedDto {
  @ApiProperty({ example: true }) verified: boolean;
}

export class SignInQueryDto {
  @ApiProperty({ description: 'the nonce of a successful authenticate' })
  @IsString()
  @Length(1, 128)
  oid_nonce: string;

  @ApiProperty({ description: 'the pending authorisation (hosted interaction id)' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  auth_req_id: string;
}
